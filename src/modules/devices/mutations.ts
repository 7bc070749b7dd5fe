import { AlreadyExistsError, NotFoundError, ValidationError } from '../../kernel/errors.js';
import { builder } from '../../graphql/builder.js';
import type { IssuedCredentials } from './credentials.js';
import { decommissionDevice, registerDevice, rotateDeviceCredentials, updateDevice, type DeviceKey } from './service.js';

const TagInput = builder.inputType('TagInput', {
  fields: (t) => ({ key: t.string({ required: true }), value: t.string({ required: true }) }),
});

const RegisterDeviceInput = builder.inputType('RegisterDeviceInput', {
  fields: (t) => ({
    deviceId: t.string({ required: true }),
    name: t.string({ required: true }),
    siteId: t.string(),
    tags: t.field({ type: [TagInput] }),
    model: t.string(),
    firmwareVersion: t.string(),
    serialNumber: t.string(),
    metadata: t.field({ type: 'JSONObject' }),
  }),
});

const UpdateDeviceInput = builder.inputType('UpdateDeviceInput', {
  fields: (t) => ({
    deviceId: t.string({ required: true }),
    name: t.string(),
    siteId: t.string({ description: 'null clears the site; omit to keep it' }),
    tags: t.field({ type: [TagInput], description: 'Replaces the whole tag set' }),
    model: t.string(),
    firmwareVersion: t.string(),
    metadata: t.field({ type: 'JSONObject' }),
  }),
});

const MqttCredentials = builder.objectRef<IssuedCredentials>('MqttCredentials').implement({
  description: 'Shown once, at registration or rotation: only a hash of the password is stored',
  fields: (t) => ({
    username: t.exposeString('username'),
    password: t.exposeString('password'),
    topicPrefix: t.exposeString('topicPrefix', { description: 'The device may publish and subscribe only under this prefix' }),
  }),
});

type DeviceResult = { key: DeviceKey };
type RegisteredDevice = DeviceResult & { credentials: IssuedCredentials };

/** The device a mutation touched, re-read through the query's own selection (one Prisma call). */
function devicePayload(name: string) {
  return builder.objectRef<DeviceResult>(name).implement({
    fields: (t) => ({
      device: t.prismaField({
        type: 'Device',
        resolve: (query, payload, _args, ctx) => ctx.session.db.device.findUniqueOrThrow({ ...query, where: { tenantId_deviceId: payload.key } }),
      }),
    }),
  });
}

/** Mutations that name one device by its ID take `input: { deviceId }`, like every other mutation. */
function deviceIdInput(name: string) {
  return builder.inputType(name, { fields: (t) => ({ deviceId: t.string({ required: true }) }) });
}

/** A device and credentials shown once: the same shape after registration and after rotation. */
function credentialsPayload(name: string) {
  return builder.objectRef<RegisteredDevice>(name).implement({
    fields: (t) => ({
      device: t.prismaField({
        type: 'Device',
        resolve: (query, payload, _args, ctx) => ctx.session.db.device.findUniqueOrThrow({ ...query, where: { tenantId_deviceId: payload.key } }),
      }),
      credentials: t.field({ type: MqttCredentials, resolve: (payload) => payload.credentials }),
    }),
  });
}

const RegisterDevicePayload = credentialsPayload('RegisterDevicePayload');
const RotateDeviceCredentialsPayload = credentialsPayload('RotateDeviceCredentialsPayload');

builder.mutationFields((t) => ({
  registerDevice: t.field({
    type: RegisterDevicePayload,
    description: 'Registers a device and returns, once, its MQTT credentials',
    errors: { types: [ValidationError, AlreadyExistsError, NotFoundError], directResult: true, union: { name: 'RegisterDeviceResult' } },
    args: { input: t.arg({ type: RegisterDeviceInput, required: true }) },
    resolve: (_root, args, ctx) => registerDevice(ctx.session, args.input),
  }),
  updateDevice: t.field({
    type: devicePayload('UpdateDevicePayload'),
    errors: { types: [ValidationError, NotFoundError], directResult: true, union: { name: 'UpdateDeviceResult' } },
    args: { input: t.arg({ type: UpdateDeviceInput, required: true }) },
    resolve: async (_root, args, ctx) => ({ key: await updateDevice(ctx.session, args.input) }),
  }),
  decommissionDevice: t.field({
    type: devicePayload('DecommissionDevicePayload'),
    description: 'Soft-deletes a device: history stays, credentials are revoked, lists hide it',
    errors: { types: [ValidationError, NotFoundError], directResult: true, union: { name: 'DecommissionDeviceResult' } },
    args: { input: t.arg({ type: deviceIdInput('DecommissionDeviceInput'), required: true }) },
    resolve: async (_root, args, ctx) => ({ key: await decommissionDevice(ctx.session, ctx.services, args.input.deviceId) }),
  }),
  rotateDeviceCredentials: t.field({
    type: RotateDeviceCredentialsPayload,
    description: 'Issues new MQTT credentials, returned once, and revokes the old ones: refused from the next CONNECT on, and open sessions on the embedded broker are closed',
    errors: { types: [ValidationError, NotFoundError], directResult: true, union: { name: 'RotateDeviceCredentialsResult' } },
    args: { input: t.arg({ type: deviceIdInput('RotateDeviceCredentialsInput'), required: true }) },
    resolve: (_root, args, ctx) => rotateDeviceCredentials(ctx.session, ctx.services, args.input.deviceId),
  }),
}));
