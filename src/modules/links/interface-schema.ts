import { AlreadyExistsError, NotFoundError, ValidationError } from '../../kernel/errors.js';
import { builder } from '../../graphql/builder.js';
import { InterfaceKindEnum } from './enums.js';
import { deleteDeviceInterface, registerDeviceInterface, updateDeviceInterface, type InterfaceChange, type InterfaceKind } from './interfaces.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A network interface; its MAC resolves wireless stations to the device. */
export const DeviceInterfaceRef = builder.prismaNode('DeviceInterface', {
  nullable: true,
  id: { field: 'id' },
  // A malformed id is simply no interface (never a database error).
  findUnique: (id) => ({ id: UUID.test(id) ? id : '00000000-0000-0000-0000-000000000000' }),
  fields: (t) => ({
    interfaceId: t.exposeID('id', { description: 'The plain interface id (use it in updateDeviceInterface and deleteDeviceInterface)' }),
    deviceId: t.exposeString('deviceId'),
    device: t.relation('device'),
    name: t.exposeString('name', { description: 'As the device (an AP, for its radios) reports it, e.g. wlan0' }),
    macAddress: t.exposeString('macAddress', { description: 'Normalised: lower case, colon-separated' }),
    kind: t.field({ type: InterfaceKindEnum, resolve: (row) => row.interfaceType as InterfaceKind }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
  }),
});

builder.prismaObjectField('Device', 'interfaces', (t) =>
  t.relation('interfaces', { description: "The device's network interfaces, by name", query: { orderBy: { name: 'asc' } } }),
);

const RegisterDeviceInterfaceInput = builder.inputType('RegisterDeviceInterfaceInput', {
  fields: (t) => ({
    deviceId: t.string({ required: true }),
    name: t.string({ required: true, description: 'As the device reports it (an AP radio: the `interface` of its polls)' }),
    macAddress: t.string({ required: true, description: 'Colon, dash, dotted or bare hex, any case; stored normalised' }),
    kind: t.field({ type: InterfaceKindEnum, description: 'Default OTHER' }),
  }),
});

const UpdateDeviceInterfaceInput = builder.inputType('UpdateDeviceInterfaceInput', {
  description: 'Omitted fields keep their value',
  fields: (t) => ({
    interfaceId: t.id({ required: true }),
    name: t.string(),
    macAddress: t.string(),
    kind: t.field({ type: InterfaceKindEnum }),
  }),
});

const DeleteDeviceInterfaceInput = builder.inputType('DeleteDeviceInterfaceInput', {
  fields: (t) => ({ interfaceId: t.id({ required: true }) }),
});

function changePayload(name: string) {
  return builder.objectRef<InterfaceChange>(name).implement({
    fields: (t) => ({
      interface: t.prismaField({
        type: 'DeviceInterface',
        resolve: (query, change, _args, ctx) => ctx.session.db.deviceInterface.findUniqueOrThrow({ ...query, where: { id: change.interfaceId } }),
      }),
      resolvedLinks: t.prismaField({
        type: ['WirelessLink'],
        description: 'Links this MAC now resolves: created from unresolved registrations, or re-attached to the device',
        resolve: (query, change, _args, ctx) =>
          change.resolvedLinkIds.length === 0
            ? []
            : ctx.session.db.wirelessLink.findMany({ ...query, where: { id: { in: change.resolvedLinkIds } }, orderBy: { id: 'asc' } }),
      }),
    }),
  });
}

const RegisterDeviceInterfacePayload = changePayload('RegisterDeviceInterfacePayload');
const UpdateDeviceInterfacePayload = changePayload('UpdateDeviceInterfacePayload');

const DeleteDeviceInterfacePayload = builder.objectRef<{ interfaceId: string; deviceId: string }>('DeleteDeviceInterfacePayload').implement({
  fields: (t) => ({
    deletedInterfaceId: t.id({ resolve: (payload) => payload.interfaceId }),
    device: t.prismaField({
      type: 'Device',
      resolve: (query, payload, _args, ctx) =>
        ctx.session.db.device.findUniqueOrThrow({ ...query, where: { tenantId_deviceId: { tenantId: ctx.scope.tenantId ?? '', deviceId: payload.deviceId } } }),
    }),
  }),
});

builder.mutationFields((t) => ({
  registerDeviceInterface: t.field({
    type: RegisterDeviceInterfacePayload,
    description: 'Registers an interface; what APs already reported under its MAC becomes links of the device',
    errors: { types: [ValidationError, NotFoundError, AlreadyExistsError], directResult: true, union: { name: 'RegisterDeviceInterfaceResult' } },
    args: { input: t.arg({ type: RegisterDeviceInterfaceInput, required: true }) },
    resolve: (_root, args, ctx) => registerDeviceInterface(ctx.session, args.input, ctx.services.config.links.defaults),
  }),
  updateDeviceInterface: t.field({
    type: UpdateDeviceInterfacePayload,
    description: 'Renames or re-addresses an interface; a new MAC is resolved as on registration',
    errors: { types: [ValidationError, NotFoundError, AlreadyExistsError], directResult: true, union: { name: 'UpdateDeviceInterfaceResult' } },
    args: { input: t.arg({ type: UpdateDeviceInterfaceInput, required: true }) },
    resolve: (_root, { input: { interfaceId, ...changes } }, ctx) =>
      updateDeviceInterface(ctx.session, { id: interfaceId, ...changes }, ctx.services.config.links.defaults),
  }),
  deleteDeviceInterface: t.field({
    type: DeleteDeviceInterfacePayload,
    description: 'Deletes an interface; links of its MAC stay, without a CPE device',
    errors: { types: [ValidationError, NotFoundError], directResult: true, union: { name: 'DeleteDeviceInterfaceResult' } },
    args: { input: t.arg({ type: DeleteDeviceInterfaceInput, required: true }) },
    resolve: (_root, args, ctx) => deleteDeviceInterface(ctx.session, { id: args.input.interfaceId }),
  }),
}));
