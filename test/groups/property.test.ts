import { afterAll, beforeAll, describe, expect, test } from '../harness/fixtures.js';
import { startTestApp, type TestApp } from '../harness/app.js';
import {
  DIMENSIONS,
  dimensionValue,
  expectedMembers,
  prng,
  randomFilter,
  randomFleet,
  SITES,
  type Filter,
  type Fleet,
  type ModelDevice,
} from './reference.js';
import {
  addMembers,
  closeOwnerSql,
  createDynamicGroup,
  createSite,
  createStaticGroup,
  expectResult,
  FLEET,
  groupMembers,
  keepPresence,
  listIds,
  ok,
  PREVIEW,
  RECORD_USAGE,
  registerDevice,
  setDeviceStateDirectly,
  UPDATE_DESIRED,
  UPSERT_CONNECTION,
} from './support.js';

/**
 * The reference-model property test: a random fleet and random filters (every term, and / or /
 * not nested three levels deep); for each filter the members through devices(filter), through a
 * dynamic group saved with it (members, memberCount), through previewDynamicGroup, and
 * fleetSummary's total and buckets must equal an in-memory evaluation of the same filter.
 * GROUPS_PROPERTY_SEED replays a seed; a failure names its seed and filter.
 */
const SEED = Number(process.env['GROUPS_PROPERTY_SEED'] ?? 3);
const FLEET_SIZE = 40;
const FILTERS = Number(process.env['GROUPS_PROPERTY_FILTERS'] ?? 120);

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(async () => {
  await app?.stop();
  await closeOwnerSql();
});

/** Seeds the model's fleet through the public API (and the presence / reported-twin helper). */
async function seed(token: string, serviceToken: string, tenantId: string, fleet: Fleet, rng: ReturnType<typeof prng>): Promise<void> {
  await keepPresence(app, token);
  for (const site of SITES) await createSite(app, token, site);
  for (const device of fleet.devices) {
    await registerDevice(app, token, {
      deviceId: device.deviceId,
      name: device.name,
      siteId: device.siteId,
      tags: Object.entries(device.tags).map(([key, value]) => ({ key, value })),
    });
    const c = device.connection;
    if (c) {
      await expectResult(app, token, UPSERT_CONNECTION, {
        deviceId: device.deviceId,
        connectionType: c.connectionType,
        ...(c.carrierName !== null && { carrierName: c.carrierName }),
        simStatus: c.simStatus,
        networkStatus: c.networkStatus,
        dataLimitMb: c.dataLimitMb,
      }, 'UpsertDeviceConnectionPayload');
      if (c.dataUsedMb !== null) await expectResult(app, serviceToken, RECORD_USAGE, { deviceId: device.deviceId, dataUsedMb: c.dataUsedMb }, 'RecordDataUsagePayload');
    }
    if (Object.keys(device.desired).length > 0) {
      await expectResult(app, token, UPDATE_DESIRED, { deviceId: device.deviceId, desired: device.desired }, 'UpdateDeviceTwinDesiredPayload');
    }
  }
  await setDeviceStateDirectly(
    tenantId,
    fleet.devices.map((device) => ({ deviceId: device.deviceId, status: device.status, lastSeenAt: device.lastSeenAt, reported: device.reported })),
  );

  // A static group of about a third of the fleet, one of whose members is then decommissioned.
  const staticId = await createStaticGroup(app, token, 'static-ref');
  const members = fleet.devices.filter(() => rng.chance(0.35)).map((device) => device.deviceId);
  if (members.length > 0) await addMembers(app, token, staticId, members);
  fleet.groups.set(staticId, { kind: 'static', members: new Set(members) });
  const gone: ModelDevice[] = [fleet.devices.find((device) => members.includes(device.deviceId)) ?? fleet.devices[0]!, fleet.devices[1]!];
  for (const device of new Set(gone)) {
    await expectResult(app, token, `mutation($input: DecommissionDeviceInput!) { decommissionDevice(input: $input) { __typename } }`, { deviceId: device.deviceId }, 'DecommissionDevicePayload');
    device.decommissioned = true;
  }
  // A dynamic group other filters may name through groupId (nesting).
  const nestedFilter = randomFilter(rng, fleet, [], 2);
  const dynamicId = await createDynamicGroup(app, token, 'dynamic-ref', nestedFilter);
  fleet.groups.set(dynamicId, { kind: 'dynamic', filter: nestedFilter });
  await app.pulse.app.reactions.idle();
}

type Summary = { fleetSummary: { total: number; buckets: Array<{ count: number; values: Array<{ dimension: string; value: string | null }> }> } };
type Preview = { previewDynamicGroup: { memberCount: number; members: Array<{ deviceId: string }> } };

async function checkFilter(token: string, fleet: Fleet, filter: Filter, index: number, rng: ReturnType<typeof prng>): Promise<void> {
  const expected = expectedMembers(fleet, filter);

  expect([...(await listIds(app, token, filter))].sort(), 'devices(filter)').toEqual(expected);

  const groupId = await createDynamicGroup(app, token, `property-${index}`, filter);
  const group = await groupMembers(app, token, groupId);
  expect(group.ids.sort(), 'dynamic group members').toEqual(expected);
  expect(group.memberCount, 'dynamic group memberCount').toBe(expected.length);

  const preview = await ok<Preview>(app, token, PREVIEW, { filter, first: 100 });
  expect(preview.previewDynamicGroup.memberCount, 'previewDynamicGroup memberCount').toBe(expected.length);
  expect(preview.previewDynamicGroup.members.map((device) => device.deviceId).sort(), 'previewDynamicGroup members').toEqual(expected);

  const dimension = rng.pick(DIMENSIONS);
  const tagKey = rng.pick(['env', 'zone', 'tier']);
  const summary = await ok<Summary>(app, token, FLEET, { filter, groupBy: [dimension], tagKey });
  expect(summary.fleetSummary.total, 'fleetSummary total').toBe(expected.length);
  const counts = new Map<string, number>();
  for (const device of fleet.devices.filter((d) => expected.includes(d.deviceId))) {
    const value = String(dimensionValue(device, dimension, tagKey));
    counts.set(value, (counts.get(value) ?? 0) + 1);
  }
  const buckets = new Map(summary.fleetSummary.buckets.map((bucket) => [String(bucket.values[0]!.value), bucket.count]));
  expect(Object.fromEntries([...buckets].sort()), `fleetSummary buckets by ${dimension}`).toEqual(Object.fromEntries([...counts].sort()));
}

describe('reference model', () => {
  test(
    'random fleets × random filters: devices(filter), dynamic groups, previews and fleet summaries agree with an in-memory evaluation',
    async ({ tenant }) => {
      const rng = prng(SEED);
      const fleet = randomFleet(rng, FLEET_SIZE);
      await seed(tenant.token, tenant.serviceToken, tenant.tenantId, fleet, rng);
      const groupIds = [...fleet.groups.keys()];
      let nonEmpty = 0;
      const failures: string[] = [];
      for (let index = 0; index < FILTERS; index += 1) {
        // Every third filter is one term, half of them negated: those show each term's own behaviour.
        const single = () => randomFilter(rng, fleet, groupIds, 0, 1);
        const filter = index % 3 === 0 ? (rng.chance(0.5) ? { not: single() } : single()) : randomFilter(rng, fleet, groupIds);
        // Its own generator, so one filter's failure does not change which filters follow.
        const checks = prng(SEED * 1_000 + index);
        try {
          await checkFilter(tenant.token, fleet, filter, index, checks);
        } catch (error) {
          failures.push(`filter #${index}: ${JSON.stringify(filter)}\n${error instanceof Error ? error.message : String(error)}`);
        }
        if (expectedMembers(fleet, filter).length > 0) nonEmpty += 1;
      }
      if (failures.length > 0) throw new Error(`seed ${SEED} (GROUPS_PROPERTY_SEED): ${failures.length} of ${FILTERS} filters disagree\n\n${failures.join('\n\n')}`);
      // A generator that only makes empty filters would prove nothing.
      expect(nonEmpty, `seed ${SEED}: filters with members`).toBeGreaterThan(FILTERS / 3);
    },
    240_000,
  );
});
