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

interface Batch {
  deviceIds: Set<string>;
  run: Promise<void>;
}

/** One tenant and aspect set: the batch being evaluated, and the one collecting devices for after it. */
interface BatchQueue {
  running?: Promise<void>;
  next?: Batch;
}

/** Per app (its runner), by tenant and aspects. */
const queues = new WeakMap<ReactionContext['runner'], Map<string, BatchQueue>>();

/**
 * The events of one commit are dispatched together (a bulk add of 1,000 devices: 1,000 events),
 * and writes keep committing while a batch is evaluated: the devices of one tenant and aspect set
 * are collected until the batch before them is done, then evaluated in one transaction,
 * set-based. So a steady stream of twin writes costs one evaluation at a time per tenant, not one
 * transaction per write; each re-reads the devices' current state, so a late batch is never stale.
 * Each event's reaction resolves when its batch is done.
 */
function reevaluateSoon(context: ReactionContext, tenantId: string, deviceId: string, aspects: Aspects): Promise<void> {
  let byKey = queues.get(context.runner);
  if (!byKey) queues.set(context.runner, (byKey = new Map()));
  const key = `${tenantId}|${aspects === 'all' ? '*' : aspects.join(',')}`;
  let queue = byKey.get(key);
  if (!queue) byKey.set(key, (queue = {}));
  if (queue.next) {
    queue.next.deviceIds.add(deviceId);
    return queue.next.run;
  }
  const owner = queue;
  const deviceIds = new Set([deviceId]);
  // After the running batch (its failure is its own events'), and at least after this tick's events.
  const run: Promise<void> = (owner.running ?? Promise.resolve())
    .catch(() => undefined)
    .then(() => {
      owner.next = undefined;
      owner.running = run;
      return reevaluate(context, tenantId, [...deviceIds], aspects);
    })
    .finally(() => {
      if (owner.running !== run) return;
      owner.running = undefined;
      if (!owner.next) byKey.delete(key);
    });
  owner.next = { deviceIds, run };
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
