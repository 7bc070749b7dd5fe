import { builder } from '../../graphql/builder.js';
import { AlreadyExistsError, NotFoundError, ValidationError } from '../../kernel/errors.js';
import { DeviceFilterInput } from '../devices/schema.js';
import { DeviceGroupRef } from './schema.js';
import {
  addDevicesToGroup,
  createDynamicGroup,
  createStaticGroup,
  deleteGroup,
  removeDevicesFromGroup,
  updateGroup,
  type BulkMembershipResult,
} from './service.js';
import type { GroupKey } from './store.js';

const groupPayload = (name: string) =>
  builder.objectRef<GroupKey>(name).implement({
    fields: (t) => ({
      group: t.prismaField({
        type: DeviceGroupRef,
        resolve: (query, key, _args, ctx) => ctx.session.db.deviceGroup.findUniqueOrThrow({ ...query, where: { tenantId_groupId: key } }),
      }),
    }),
  });

const CreateDeviceGroupInput = builder.inputType('CreateDeviceGroupInput', {
  fields: (t) => ({ name: t.string({ required: true }), description: t.string() }),
});

const CreateDynamicDeviceGroupInput = builder.inputType('CreateDynamicDeviceGroupInput', {
  fields: (t) => ({
    name: t.string({ required: true }),
    description: t.string(),
    queryFilter: t.field({ type: DeviceFilterInput, required: true, description: 'Validated and stored; evaluated at every read' }),
  }),
});

const UpdateDeviceGroupInput = builder.inputType('UpdateDeviceGroupInput', {
  fields: (t) => ({
    groupId: t.string({ required: true }),
    name: t.string(),
    description: t.string({ description: 'null clears it' }),
    queryFilter: t.field({ type: DeviceFilterInput, description: 'Dynamic groups only: the new filter; devices that join or leave by it are events' }),
  }),
});

const DeleteDeviceGroupInput = builder.inputType('DeleteDeviceGroupInput', { fields: (t) => ({ groupId: t.string({ required: true }) }) });

const GroupMembersInput = builder.inputType('GroupMembersInput', {
  fields: (t) => ({
    groupId: t.string({ required: true }),
    deviceIds: t.stringList({ required: true, description: '1 to 1,000 device IDs; duplicates count once' }),
  }),
});

const MemberOutcome = builder.enumType('GroupMemberOutcome', {
  values: {
    ADDED: { description: 'Now a member' },
    ALREADY_MEMBER: { description: 'Was a member already; nothing changed' },
    REMOVED: { description: 'No longer a member' },
    NOT_MEMBER: { description: 'Was not a member; nothing changed' },
    NOT_FOUND: { description: "No active device with this ID in the caller's tenant" },
  } as const,
});

const MemberResult = builder.objectRef<BulkMembershipResult['results'][number]>('GroupMemberResult').implement({
  fields: (t) => ({ deviceId: t.exposeString('deviceId'), outcome: t.field({ type: MemberOutcome, resolve: (result) => result.outcome }) }),
});

const membersPayload = (name: string) =>
  builder.objectRef<BulkMembershipResult>(name).implement({
    fields: (t) => ({
      group: t.prismaField({
        type: DeviceGroupRef,
        resolve: (query, result, _args, ctx) => ctx.session.db.deviceGroup.findUniqueOrThrow({ ...query, where: { tenantId_groupId: result.key } }),
      }),
      results: t.field({ type: [MemberResult], description: 'One per distinct device ID, in the order given', resolve: (result) => result.results }),
    }),
  });

const DeleteDeviceGroupPayload = builder.objectRef<GroupKey>('DeleteDeviceGroupPayload').implement({
  fields: (t) => ({ groupId: t.exposeString('groupId') }),
});

builder.mutationFields((t) => ({
  createDeviceGroup: t.field({
    type: groupPayload('CreateDeviceGroupPayload'),
    description: 'Creates a static group',
    errors: { types: [ValidationError, AlreadyExistsError], directResult: true, union: { name: 'CreateDeviceGroupResult' } },
    args: { input: t.arg({ type: CreateDeviceGroupInput, required: true }) },
    resolve: (_root, args, ctx) => createStaticGroup(ctx.session, args.input),
  }),
  createDynamicDeviceGroup: t.field({
    type: groupPayload('CreateDynamicDeviceGroupPayload'),
    description: 'Creates a dynamic group: its members are the devices its filter matches, at every read',
    errors: { types: [ValidationError, AlreadyExistsError, NotFoundError], directResult: true, union: { name: 'CreateDynamicDeviceGroupResult' } },
    args: { input: t.arg({ type: CreateDynamicDeviceGroupInput, required: true }) },
    resolve: (_root, args, ctx) => createDynamicGroup(ctx.session, args.input),
  }),
  updateDeviceGroup: t.field({
    type: groupPayload('UpdateDeviceGroupPayload'),
    errors: { types: [ValidationError, AlreadyExistsError, NotFoundError], directResult: true, union: { name: 'UpdateDeviceGroupResult' } },
    args: { input: t.arg({ type: UpdateDeviceGroupInput, required: true }) },
    resolve: (_root, args, ctx) => updateGroup(ctx.session, args.input),
  }),
  deleteDeviceGroup: t.field({
    type: DeleteDeviceGroupPayload,
    errors: { types: [ValidationError, NotFoundError], directResult: true, union: { name: 'DeleteDeviceGroupResult' } },
    args: { input: t.arg({ type: DeleteDeviceGroupInput, required: true }) },
    resolve: (_root, args, ctx) => deleteGroup(ctx.session, args.input.groupId),
  }),
  addDevicesToGroup: t.field({
    type: membersPayload('AddDevicesToGroupPayload'),
    description: 'Adds devices to a static group; idempotent, with an outcome per device ID',
    errors: { types: [ValidationError, NotFoundError], directResult: true, union: { name: 'AddDevicesToGroupResult' } },
    args: { input: t.arg({ type: GroupMembersInput, required: true }) },
    resolve: (_root, args, ctx) => addDevicesToGroup(ctx.session, args.input),
  }),
  removeDevicesFromGroup: t.field({
    type: membersPayload('RemoveDevicesFromGroupPayload'),
    description: 'Removes devices from a static group; idempotent, with an outcome per device ID',
    errors: { types: [ValidationError, NotFoundError], directResult: true, union: { name: 'RemoveDevicesFromGroupResult' } },
    args: { input: t.arg({ type: GroupMembersInput, required: true }) },
    resolve: (_root, args, ctx) => removeDevicesFromGroup(ctx.session, args.input),
  }),
}));
