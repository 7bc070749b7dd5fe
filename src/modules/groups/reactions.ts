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
import { applyDevicesSnapshot, dynamicGroupsWatching, groupsMatchingDevices } from './store.js';

/** Re-evaluates the dynamic groups of the tenant that watch `aspects` for `deviceIds`, in the tenant's scope: two statements. */
async function reevaluate({ runner }: ReactionContext, tenantId: string, deviceIds: readonly string[], aspects: Aspects): Promise<void> {
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
    const memberships = await groupsMatchingDevices(session, tenantId, deviceIds, conditions);
    const moved = await applyDevicesSnapshot(session, tenantId, deviceIds, [...conditions.keys()], memberships);
    publishMembership(session, tenantId, moved.map((row) => ({ groupId: row.group_id, deviceId: row.device_id, change: row.change })));
  });
}

type Aspects = readonly DeviceAspect[] | 'all';
/** Per app (its runner), the batches not started yet, by tenant and aspects. */
const batches = new WeakMap<ReactionContext['runner'], Map<string, { deviceIds: Set<string>; run: Promise<void> }>>();

/**
 * The events of one commit are dispatched together (a bulk add of 1,000 devices: 1,000 events),
 * so the devices of one tenant and aspect set that arrive in the same tick are evaluated in one
 * transaction, set-based, instead of one transaction per device. Each event's reaction resolves
 * when its batch is done.
 */
function reevaluateSoon(context: ReactionContext, tenantId: string, deviceId: string, aspects: Aspects): Promise<void> {
  let open = batches.get(context.runner);
  if (!open) batches.set(context.runner, (open = new Map()));
  const key = `${tenantId}|${aspects === 'all' ? '*' : aspects.join(',')}`;
  const batch = open.get(key);
  if (batch) {
    batch.deviceIds.add(deviceId);
    return batch.run;
  }
  const deviceIds = new Set([deviceId]);
  const waiting = open;
  const run = Promise.resolve().then(() => {
    waiting.delete(key);
    return reevaluate(context, tenantId, [...deviceIds], aspects);
  });
  open.set(key, { deviceIds, run });
  return run;
}

export const membershipReactions = [
  defineReaction({
    name: 'groups: device changed',
    event: 'deviceChanged',
    // A new or decommissioned device can enter or leave any group, even one whose filter looks at
    // no aspect at all (`{}`, or only deviceIdPrefix / deviceIdPattern); an update, by name, site or tags.
    react: (event, context) => reevaluateSoon(context, event.tenantId, event.deviceId, event.change === 'UPDATED' ? ['registry', 'tags', 'groups'] : 'all'),
  }),
  defineReaction({
    name: 'groups: presence changed',
    event: 'deviceConnectivityChanged',
    react: (event, context) => reevaluateSoon(context, event.tenantId, event.deviceId, ['presence']),
  }),
  defineReaction({
    name: 'groups: twin changed',
    event: 'deviceTwinChanged',
    react: (event, context) => reevaluateSoon(context, event.tenantId, event.deviceId, ['twin']),
  }),
  defineReaction({
    name: 'groups: connection changed',
    event: 'deviceConnectionChanged',
    react: (event, context) => reevaluateSoon(context, event.tenantId, event.deviceId, ['connection']),
  }),
  defineReaction({
    name: 'groups: membership changed',
    event: 'deviceGroupMembershipChanged',
    // Groups whose filters name another group: a static add or a dynamic move can move them too.
    react: (event, context) => reevaluateSoon(context, event.tenantId, event.deviceId, ['groups']),
  }),
];
