/**
 * Membership events of dynamic groups. After a device's change commits, the groups whose filters
 * look at what changed are re-evaluated for that device in one statement, and the snapshot of
 * their members (device_group_dynamic_members) is moved to the result: what joined and what left
 * is published. Reads never use the snapshot; they evaluate the filter live.
 */
import type { DeviceAspect } from '../../graphql/device-filter-terms.js';
import { defineReaction, type ReactionContext } from '../../events/reactions.js';
import type { Prisma } from '../../generated/prisma/client.js';
import type { TenantScope } from '../../kernel/scope.js';
import { groupMembershipSql, type GroupRecord } from './membership.js';
import { publishMembership } from './service.js';
import { applyDeviceSnapshot, dynamicGroupsWatching, groupsMatchingDevice } from './store.js';

/** Re-evaluates the dynamic groups of the device's tenant that watch `aspects`, in the tenant's scope. */
async function reevaluate({ runner }: ReactionContext, tenantId: string, deviceId: string, aspects: readonly DeviceAspect[] | 'all'): Promise<void> {
  const scope: TenantScope = { tenantId, role: 'iot_service', actorId: 'group-membership' };
  await runner.run(scope, async (session) => {
    const groups = (await dynamicGroupsWatching(session, tenantId, aspects)) as GroupRecord[];
    if (groups.length === 0) return;
    const conditions = new Map<string, Prisma.Sql>();
    for (const group of groups) {
      try {
        conditions.set(group.groupId, await groupMembershipSql(session, group));
      } catch {
        // A stored filter that no longer compiles (e.g. a nested group was deleted) matches nothing.
      }
    }
    const memberOf = await groupsMatchingDevice(session, tenantId, deviceId, conditions);
    const moved = await applyDeviceSnapshot(session, tenantId, deviceId, [...conditions.keys()], memberOf);
    publishMembership(session, tenantId, moved.map((row) => ({ groupId: row.group_id, deviceId, change: row.change })));
  });
}

export const membershipReactions = [
  defineReaction({
    name: 'groups: device changed',
    event: 'deviceChanged',
    // A new or decommissioned device can enter or leave any group, even one whose filter looks at
    // no aspect at all (`{}`, or only deviceIdPrefix / deviceIdPattern); an update, by name, site or tags.
    react: (event, context) => reevaluate(context, event.tenantId, event.deviceId, event.change === 'UPDATED' ? ['registry', 'tags', 'groups'] : 'all'),
  }),
  defineReaction({
    name: 'groups: presence changed',
    event: 'deviceConnectivityChanged',
    react: (event, context) => reevaluate(context, event.tenantId, event.deviceId, ['presence']),
  }),
  defineReaction({
    name: 'groups: twin changed',
    event: 'deviceTwinChanged',
    react: (event, context) => reevaluate(context, event.tenantId, event.deviceId, ['twin']),
  }),
  defineReaction({
    name: 'groups: connection changed',
    event: 'deviceConnectionChanged',
    react: (event, context) => reevaluate(context, event.tenantId, event.deviceId, ['connection']),
  }),
  defineReaction({
    name: 'groups: membership changed',
    event: 'deviceGroupMembershipChanged',
    // Groups whose filters name another group: a static add or a dynamic move can move them too.
    react: (event, context) => reevaluate(context, event.tenantId, event.deviceId, ['groups']),
  }),
];
