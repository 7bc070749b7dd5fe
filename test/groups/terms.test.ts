import { afterAll, beforeAll, describe, expect, test } from '../harness/fixtures.js';
import { startTestApp, type TestApp } from '../harness/app.js';
import {
  addMembers,
  closeOwnerSql,
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
  sorted,
  UPDATE_DESIRED,
  UPSERT_CONNECTION,
  type Filter,
} from './support.js';

/** Each term of the filter language alone, then combined with and / or / not, through devices(filter). */
let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(async () => {
  await app?.stop();
  await closeOwnerSql();
});

const now = Math.floor(Date.now() / 1000) * 1000;
const minutesAgo = (minutes: number) => new Date(now - minutes * 60_000);

/**
 * pump_01  Pump_01  north  env=prod fw=2   ONLINE  10 min  cellular Hologram active connected, 150/100 MB   desired = reported (IN_SYNC)
 * pump-02  Pump%02  north  env=dev         STALE   2 h     wifi, disconnected                              desired differs, stale (STALE)
 * valve.1  Valve 1  south  env=prod zone=a ONLINE  1 min   cellular 1NCE suspended connected, 50/100 MB     desired differs, online (PENDING)
 * valve.2  valve 2  —      zone=b          OFFLINE never   no connection                                   no twin (IN_SYNC)
 * gone     decommissioned, would match most terms
 */
async function seedFleet(token: string, serviceToken: string, tenantId: string): Promise<string> {
  await keepPresence(app, token);
  await createSite(app, token, 'north');
  await createSite(app, token, 'south');
  await registerDevice(app, token, { deviceId: 'pump_01', name: 'Pump_01', siteId: 'north', tags: [{ key: 'env', value: 'prod' }, { key: 'fw', value: '2' }] });
  await registerDevice(app, token, { deviceId: 'pump-02', name: 'Pump%02', siteId: 'north', tags: [{ key: 'env', value: 'dev' }] });
  await registerDevice(app, token, { deviceId: 'valve.1', name: 'Valve 1', siteId: 'south', tags: [{ key: 'env', value: 'prod' }, { key: 'zone', value: 'a' }] });
  await registerDevice(app, token, { deviceId: 'valve.2', name: 'valve 2', tags: [{ key: 'zone', value: 'b' }] });
  await registerDevice(app, token, { deviceId: 'gone', name: 'Pump gone', siteId: 'north', tags: [{ key: 'env', value: 'prod' }] });

  const connection = (input: Record<string, unknown>) => expectResult(app, token, UPSERT_CONNECTION, input, 'UpsertDeviceConnectionPayload');
  await connection({ deviceId: 'pump_01', connectionType: 'CELLULAR', carrierName: 'Hologram', simStatus: 'ACTIVE', networkStatus: 'CONNECTED', dataLimitMb: 100 });
  await connection({ deviceId: 'pump-02', connectionType: 'WIFI', networkStatus: 'DISCONNECTED' });
  await connection({ deviceId: 'valve.1', connectionType: 'CELLULAR', carrierName: '1NCE', simStatus: 'SUSPENDED', networkStatus: 'CONNECTED', dataLimitMb: 100 });
  await connection({ deviceId: 'gone', connectionType: 'CELLULAR', carrierName: 'Hologram', dataLimitMb: 1 });
  await expectResult(app, serviceToken, RECORD_USAGE, { deviceId: 'pump_01', dataUsedMb: 150 }, 'RecordDataUsagePayload');
  await expectResult(app, serviceToken, RECORD_USAGE, { deviceId: 'valve.1', dataUsedMb: 50 }, 'RecordDataUsagePayload');
  await expectResult(app, serviceToken, RECORD_USAGE, { deviceId: 'gone', dataUsedMb: 50 }, 'RecordDataUsagePayload');

  const desired = (deviceId: string, document: object) => expectResult(app, token, UPDATE_DESIRED, { deviceId, desired: document }, 'UpdateDeviceTwinDesiredPayload');
  await desired('pump_01', { cfg: { rate: 10 } });
  await desired('pump-02', { cfg: { rate: 20 } });
  await desired('valve.1', { cfg: { rate: 5 } });
  await desired('gone', { cfg: { rate: 10 } });
  await setDeviceStateDirectly(tenantId, [
    { deviceId: 'pump_01', status: 'ONLINE', lastSeenAt: minutesAgo(10), reported: { cfg: { rate: 10 }, temp: 21.5, list: [1, 2] } },
    { deviceId: 'pump-02', status: 'STALE', lastSeenAt: minutesAgo(120), reported: { cfg: { rate: 10 } } },
    { deviceId: 'valve.1', status: 'ONLINE', lastSeenAt: minutesAgo(1), reported: { temp: 'hot' } },
    { deviceId: 'gone', status: 'ONLINE', lastSeenAt: minutesAgo(1), reported: { cfg: { rate: 10 }, temp: 30 } },
  ]);

  const groupId = await createStaticGroup(app, token, 'pumps');
  await addMembers(app, token, groupId, ['pump_01', 'pump-02', 'gone']);
  await expectResult(app, token, `mutation { decommissionDevice(input: { deviceId: "gone" }) { __typename } }`, undefined, 'DecommissionDevicePayload');
  return groupId;
}

describe('DeviceFilter terms', () => {
  test('each term alone, then and / or / not', async ({ tenant }) => {
    const groupId = await seedFleet(tenant.token, tenant.serviceToken, tenant.tenantId);
    const cases: Array<[Filter, string[]]> = [
      [{}, ['pump-02', 'pump_01', 'valve.1', 'valve.2']],
      // Site, tags, IDs and names.
      [{ siteId: 'north' }, ['pump-02', 'pump_01']],
      [{ siteIds: ['south', 'north'] }, ['pump-02', 'pump_01', 'valve.1']],
      [{ tags: [{ key: 'env', value: 'prod' }] }, ['pump_01', 'valve.1']],
      [{ tags: [{ key: 'zone' }] }, ['valve.1', 'valve.2']],
      [{ tags: [{ key: 'env', value: 'prod' }, { key: 'zone', value: 'a' }] }, ['valve.1']],
      [{ tagsAny: [{ key: 'env', value: 'dev' }, { key: 'zone', value: 'b' }] }, ['pump-02', 'valve.2']],
      [{ search: 'PUMP' }, ['pump-02', 'pump_01']],
      [{ search: '%' }, ['pump-02']], // LIKE wildcards in the text are literal
      [{ search: '_' }, ['pump_01']],
      [{ deviceIdPrefix: 'pump' }, ['pump-02', 'pump_01']],
      [{ deviceIdPrefix: 'pump_' }, ['pump_01']],
      [{ namePrefix: 'Valve' }, ['valve.1']], // case-sensitive
      [{ deviceIdPattern: 'valve.?' }, ['valve.1', 'valve.2']],
      [{ deviceIdPattern: '*_*' }, ['pump_01']],
      [{ deviceIdPattern: 'pump?0*' }, ['pump-02', 'pump_01']],
      [{ namePattern: '* ?' }, ['valve.1', 'valve.2']],
      [{ namePattern: 'Pump%0?' }, ['pump-02']],
      // Presence.
      [{ status: ['ONLINE'] }, ['pump_01', 'valve.1']],
      [{ status: ['OFFLINE'] }, ['valve.2']],
      [{ status: ['STALE', 'OFFLINE'] }, ['pump-02', 'valve.2']],
      [{ lastSeenBefore: minutesAgo(30).toISOString() }, ['pump-02', 'valve.2']], // never seen counts as before
      [{ lastSeenAfter: minutesAgo(30).toISOString() }, ['pump_01', 'valve.1']],
      [{ lastSeenAfter: minutesAgo(10).toISOString() }, ['pump_01', 'valve.1']], // at or after
      [{ lastSeenBefore: minutesAgo(10).toISOString() }, ['pump-02', 'valve.2']], // strictly before
      // Connection.
      [{ carrier: 'hologram' }, ['pump_01']],
      [{ connectionType: ['WIFI'] }, ['pump-02']],
      [{ connectionType: ['CELLULAR', 'LORA'] }, ['pump_01', 'valve.1']],
      [{ simStatus: ['SUSPENDED'] }, ['valve.1']],
      [{ networkStatus: ['DISCONNECTED'] }, ['pump-02']],
      [{ overDataLimit: true }, ['pump_01']],
      [{ overDataLimit: false }, ['pump-02', 'valve.1', 'valve.2']],
      // Twin.
      [{ desired: [{ path: 'cfg.rate', operator: 'EQ', value: 10 }] }, ['pump_01']],
      [{ desired: [{ path: 'cfg', operator: 'EQ', value: { rate: 20 } }] }, ['pump-02']],
      [{ reported: [{ path: 'temp', operator: 'GT', value: 20 }] }, ['pump_01']], // "hot" is no number
      [{ reported: [{ path: 'temp', operator: 'LTE', value: 21.5 }] }, ['pump_01']],
      [{ reported: [{ path: 'temp', operator: 'GT', value: 'a' }] }, ['valve.1']],
      [{ reported: [{ path: 'temp', operator: 'EQ', value: 'hot' }] }, ['valve.1']],
      [{ reported: [{ path: 'temp', operator: 'EXISTS' }] }, ['pump_01', 'valve.1']],
      [{ reported: [{ path: 'temp', operator: 'NOT_EXISTS' }] }, ['pump-02', 'valve.2']],
      [{ reported: [{ path: 'cfg.rate', operator: 'NE', value: 10 }] }, ['valve.1', 'valve.2']], // absent counts as different
      [{ reported: [{ path: 'list', operator: 'EQ', value: [1, 2] }] }, ['pump_01']],
      [{ reported: [{ path: 'list', operator: 'EQ', value: [1] }] }, []], // containment alone would match a subset
      [{ reported: [{ path: 'list.0', operator: 'EXISTS' }] }, []], // arrays are leaves: paths never index them
      [{ reported: [{ path: 'temp', operator: 'GT', value: 0 }, { path: 'cfg.rate', operator: 'EQ', value: 10 }] }, ['pump_01']],
      [{ syncStatus: ['IN_SYNC'] }, ['pump_01', 'valve.2']],
      [{ syncStatus: ['PENDING'] }, ['valve.1']],
      [{ syncStatus: ['STALE'] }, ['pump-02']],
      // Groups.
      [{ groupId }, ['pump-02', 'pump_01']],
      // Combined.
      [{ siteId: 'north', status: ['ONLINE'] }, ['pump_01']],
      [{ or: [{ siteId: 'south' }, { status: ['OFFLINE'] }] }, ['valve.1', 'valve.2']],
      [{ not: { siteId: 'north' } }, ['valve.1', 'valve.2']], // a device without a site is not at north
      [{ not: { siteIds: ['north', 'south'] } }, ['valve.2']],
      [{ siteId: 'north', not: { tags: [{ key: 'env', value: 'prod' }] } }, ['pump-02']],
      [{ and: [{ status: ['ONLINE'] }, { or: [{ carrier: '1nce' }, { overDataLimit: true }] }] }, ['pump_01', 'valve.1']],
      [{ not: { or: [{ status: ['ONLINE'] }, { siteIds: ['north'] }] } }, ['valve.2']],
      [{ not: { not: { groupId } } }, ['pump-02', 'pump_01']],
      [{ groupId, not: { syncStatus: ['IN_SYNC'] } }, ['pump-02']],
      [{ or: [{ desired: [{ path: 'cfg.rate', operator: 'GTE', value: 10 }] }, { tags: [{ key: 'zone', value: 'b' }] }], not: { connectionType: ['WIFI'] } }, ['pump_01', 'valve.2']],
      [{ includeDecommissioned: true, siteId: 'north' }, ['gone', 'pump-02', 'pump_01']],
    ];
    const failures: string[] = [];
    for (const [filter, expected] of cases) {
      const found = sorted(await listIds(app, tenant.token, filter));
      if (JSON.stringify(found) !== JSON.stringify(sorted(expected))) failures.push(`${JSON.stringify(filter)}: got ${JSON.stringify(found)}, expected ${JSON.stringify(sorted(expected))}`);
    }
    expect(failures).toEqual([]);

    // A group's members narrowed by a filter.
    expect((await groupMembers(app, tenant.token, groupId, { status: ['ONLINE'] })).ids).toEqual(['pump_01']);
    expect((await groupMembers(app, tenant.token, groupId, { not: { siteId: 'north' } })).ids).toEqual([]);

    // fleetSummary over two dimensions, and the value of a named tag; null is "no value".
    type Summary = { fleetSummary: { total: number; buckets: Array<{ count: number; values: Array<{ dimension: string; value: string | null }> }> } };
    const buckets = async (variables: Record<string, unknown>) => {
      const summary = (await ok<Summary>(app, tenant.token, FLEET, variables)).fleetSummary;
      expect(summary.total).toBe(summary.buckets.reduce((sum, bucket) => sum + bucket.count, 0));
      return Object.fromEntries(summary.buckets.map((bucket) => [bucket.values.map((value) => `${value.dimension}=${value.value}`).join(' '), bucket.count]));
    };
    expect(await buckets({ groupBy: ['SITE', 'STATUS'] })).toEqual({
      'SITE=north STATUS=ONLINE': 1,
      'SITE=north STATUS=STALE': 1,
      'SITE=south STATUS=ONLINE': 1,
      'SITE=null STATUS=OFFLINE': 1,
    });
    expect(await buckets({ groupBy: ['TAG'], tagKey: 'env', filter: { not: { status: ['STALE'] } } })).toEqual({ 'TAG=prod': 2, 'TAG=null': 1 });
    expect(await buckets({ groupBy: ['CARRIER', 'SIM_STATUS', 'SYNC_STATUS'] })).toEqual({
      'CARRIER=Hologram SIM_STATUS=ACTIVE SYNC_STATUS=IN_SYNC': 1,
      'CARRIER=null SIM_STATUS=ACTIVE SYNC_STATUS=STALE': 1,
      'CARRIER=1NCE SIM_STATUS=SUSPENDED SYNC_STATUS=PENDING': 1,
      'CARRIER=null SIM_STATUS=null SYNC_STATUS=IN_SYNC': 1,
    });
    expect(await buckets({ groupBy: ['CONNECTION_TYPE', 'NETWORK_STATUS'], filter: { groupId } })).toEqual({
      'CONNECTION_TYPE=CELLULAR NETWORK_STATUS=CONNECTED': 1,
      'CONNECTION_TYPE=WIFI NETWORK_STATUS=DISCONNECTED': 1,
    });

    // previewDynamicGroup: the count of all, the first `first` (0 to 100) in deviceId order.
    type Preview = { previewDynamicGroup: { memberCount: number; members: Array<{ deviceId: string }> } };
    for (const [first, expected] of [[2, ['pump-02', 'pump_01']], [0, []], [-5, []], [1_000, ['pump-02', 'pump_01', 'valve.1', 'valve.2']]] as const) {
      const preview = (await ok<Preview>(app, tenant.token, PREVIEW, { filter: {}, first })).previewDynamicGroup;
      expect(preview.memberCount).toBe(4);
      expect(preview.members.map((device) => device.deviceId).sort()).toEqual([...expected].sort());
    }
  });
});
