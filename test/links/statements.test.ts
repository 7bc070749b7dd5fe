import { afterAll, beforeAll, describe, expect, test } from '../harness/fixtures.js';
import { startTestApp, type TestApp } from '../harness/app.js';
import { registerDevice } from '../connectivity/support.js';
import { closeClients, good, links, poll, prepareTenant, registerInterface, startAccessPoint, uniqueMac, weak, type AccessPoint, type Station } from './helpers.js';

/**
 * Every SQL statement Prisma sends for one poll: a poll is processed set-based, so 500 stations
 * cost the same statements as 5. The count is pinned, so a regression (a statement per station)
 * shows as a changed number, not as a slower test.
 */
let app: TestApp;
let recording: string[] | null = null;
beforeAll(async () => {
  app = await startTestApp({}, { autoStartWorkers: false, onQuery: (sql) => recording?.push(sql) });
});
afterAll(async () => {
  await closeClients();
  await app.stop();
});

/** Statements of one poll (transaction control excluded), with nothing else running in the app. */
async function statementsOf(ap: AccessPoint, stations: Station[]): Promise<string[]> {
  await app.pulse.app.reactions.idle();
  recording = [];
  const outcome = await poll(app, ap, stations);
  const seen = recording;
  recording = null;
  expect(outcome).toEqual({ status: 'applied' });
  return seen.filter((sql) => !/^\s*(BEGIN|COMMIT|ROLLBACK)/i.test(sql));
}

describe('statements per poll', () => {
  test('a 500-station poll costs the same constant number of statements as a 5-station one', async ({ tenant }) => {
    await prepareTenant(app, tenant.token);
    const small = await startAccessPoint(app, tenant, 'ap-small');
    const large = await startAccessPoint(app, tenant, 'ap-large');
    await registerDevice(app, tenant.token, 'cpe-many');
    // 100 stations resolve (interfaces of one CPE device), the rest stay unresolved.
    const resolved = Array.from({ length: 100 }, () => uniqueMac());
    for (const [index, mac] of resolved.entries()) {
      const result = await registerInterface(app, tenant.token, { deviceId: 'cpe-many', name: `if${index}`, macAddress: mac });
      expect(result.__typename).toBe('RegisterDeviceInterfacePayload');
    }
    const unresolved = Array.from({ length: 400 }, () => uniqueMac());
    const fleet = [...resolved.map(good), ...unresolved.map(good)];
    const few = [...resolved.slice(0, 2).map(good), ...unresolved.slice(0, 3).map(good)];

    // First polls make the APs ONLINE (a presence change, with its own reactions); not measured.
    await poll(app, small, few);
    await poll(app, large, fleet);

    const smallPoll = await statementsOf(small, few.map((station) => weak(station.mac)));
    // 500 stations listed again; half of the links missing from the next one.
    const largePoll = await statementsOf(large, fleet.map((station) => weak(station.mac)));
    const largeWithMisses = await statementsOf(large, [...resolved.slice(0, 50).map(good), ...unresolved.map(good)]);
    // set_config; presence touch; poll cursor; links read (locked, MACs resolved); links + events
    // write; unresolved registrations write.
    expect(smallPoll).toHaveLength(6);
    expect(largePoll).toHaveLength(6);
    expect(largeWithMisses).toHaveLength(6);
    // Every station a known link: nothing to keep as unresolved, no registrations statement.
    const resolvedAp = await startAccessPoint(app, tenant, 'ap-resolved');
    await poll(app, resolvedAp, resolved.map(good));
    expect(await statementsOf(resolvedAp, resolved.map(weak))).toHaveLength(5);

    // And the poll did its work: 100 links, all DEGRADED by the weak poll, 50 of them now missing one poll.
    const page = await app.gql<{ wirelessLinks: { totalCount: number } }>(tenant.token, `query { wirelessLinks(filter: { apDeviceId: "ap-large", state: [DEGRADED] }, first: 1) { totalCount } }`);
    expect(page.data?.wirelessLinks.totalCount).toBe(100);
    const missing = await app.gql<{ unresolvedRegistrations: { totalCount: number } }>(tenant.token, `query { unresolvedRegistrations(apDeviceId: "ap-large", first: 1) { totalCount } }`);
    expect(missing.data?.unresolvedRegistrations.totalCount).toBe(400);
  });

  test('a page of links with AP, CPE and interfaces costs the same statements for 2 links as for 20', async ({ tenant }) => {
    await prepareTenant(app, tenant.token);
    const ap = await startAccessPoint(app, tenant, 'ap-1');
    await registerDevice(app, tenant.token, 'cpe-1');
    const macs = Array.from({ length: 20 }, () => uniqueMac());
    for (const [index, mac] of macs.entries()) await registerInterface(app, tenant.token, { deviceId: 'cpe-1', name: `if${index}`, macAddress: mac });
    await poll(app, ap, macs.map(good));
    const count = async (first: number) => {
      // Reactions to the AP coming ONLINE (other modules') must not count as the page's.
      await app.pulse.app.reactions.idle();
      recording = [];
      expect(await links(app, tenant.token, {}, first)).toHaveLength(first);
      const seen = recording.filter((sql) => !/^\s*(BEGIN|COMMIT|ROLLBACK)/i.test(sql));
      recording = null;
      return seen.length;
    };
    const few = await count(2);
    expect(await count(20)).toBe(few);
    // set_config; the page's IDs; the rows with every selected relation; the total count.
    expect(few).toBe(4);
  });

  test('Device.wirelessLinks on a page of devices: one statement for every device’s page, one for the rows', async ({ tenant }) => {
    await prepareTenant(app, tenant.token);
    const aps = [await startAccessPoint(app, tenant, 'ap-1'), await startAccessPoint(app, tenant, 'ap-2'), await startAccessPoint(app, tenant, 'ap-3')];
    await registerDevice(app, tenant.token, 'cpe-1');
    const macs = Array.from({ length: 6 }, () => uniqueMac());
    for (const [index, mac] of macs.entries()) await registerInterface(app, tenant.token, { deviceId: 'cpe-1', name: `if${index}`, macAddress: mac });
    // ap-1 sees 1 station, ap-2 sees 2, ap-3 sees 3; cpe-1 is the CPE of all 6 links.
    for (const [index, ap] of aps.entries()) await poll(app, ap, macs.slice(0, index + 1).map(good));
    const PAGE = /* GraphQL */ `
      query($first: Int) {
        devices(first: $first) { edges { node { deviceId wirelessLinks(first: 2) { totalCount pageInfo { hasNextPage } edges { node { cpeMac ap { deviceId } } } } } } }
      }`;
    type Page = { devices: { edges: Array<{ node: { deviceId: string; wirelessLinks: { totalCount: number; pageInfo: { hasNextPage: boolean }; edges: unknown[] } } }> } };
    const run = async (first: number) => {
      await app.pulse.app.reactions.idle();
      recording = [];
      const result = await app.gql<Page>(tenant.token, PAGE, { first });
      const seen = recording.filter((sql) => !/^\s*(BEGIN|COMMIT|ROLLBACK)/i.test(sql));
      recording = null;
      expect(result.errors).toBeUndefined();
      return { statements: seen.length, devices: result.data!.devices.edges.map((edge) => edge.node) };
    };
    const two = await run(2);
    const all = await run(4);
    expect(all.statements).toBe(two.statements);
    expect(all.devices.map((device) => [device.deviceId, device.wirelessLinks.totalCount, device.wirelessLinks.edges.length, device.wirelessLinks.pageInfo.hasNextPage])).toEqual([
      ['ap-1', 1, 1, false],
      ['ap-2', 2, 2, false],
      ['ap-3', 3, 2, true],
      ['cpe-1', 6, 2, true],
    ]);
  });
});
