import { afterAll, beforeAll, describe, expect, test } from '../harness/fixtures.js';
import { startTestApp, type TestApp } from '../harness/app.js';
import { registerDevice } from '../connectivity/support.js';
import {
  closeClients,
  good,
  historyOf,
  linkTo,
  links,
  poll,
  prepareTenant,
  publishRaw,
  registerCpe,
  registerInterface,
  startAccessPoint,
  uniqueMac,
  weak,
} from './helpers.js';

// The embedded broker: each simulated AP logs in with its own credentials and may publish only
// under its own topic prefix, as a real AP would.
let app: TestApp;
beforeAll(async () => {
  app = await startTestApp({ MQTT_URL: '', MQTT_PORT: '0' });
});
afterAll(async () => {
  await closeClients();
  await app.stop();
});

const UNRESOLVED = /* GraphQL */ `
  query($apDeviceId: String) {
    unresolvedRegistrations(apDeviceId: $apDeviceId, first: 25) {
      totalCount edges { node { apDeviceId interfaceName stationMac signalDbm snrDb ccq uptimeS sightings lastPollId ap { deviceId } } }
    }
  }`;
type Unresolved = { apDeviceId: string; interfaceName: string; stationMac: string; signalDbm: number | null; sightings: number; lastPollId: number };

async function unresolved(token: string, apDeviceId?: string): Promise<Unresolved[]> {
  const result = await app.gql<{ unresolvedRegistrations: { edges: Array<{ node: Unresolved }> } }>(token, UNRESOLVED, { apDeviceId });
  expect(result.errors).toBeUndefined();
  return result.data!.unresolvedRegistrations.edges.map((edge) => edge.node);
}

describe('discovery', () => {
  test('a station whose MAC resolves creates the AP→CPE link with its figures; a second poll refreshes it', async ({ tenant }) => {
    await prepareTenant(app, tenant.token);
    const ap = await startAccessPoint(app, tenant, 'ap-1');
    const mac = uniqueMac();
    await registerCpe(app, tenant.token, 'cpe-1', mac);

    expect(await poll(app, ap, [good(mac.toUpperCase().replace(/:/g, '-'))])).toEqual({ status: 'applied' });
    const link = await linkTo(app, tenant.token, 'ap-1', mac);
    expect(link).toMatchObject({
      apDeviceId: 'ap-1',
      apInterfaceName: 'wlan0',
      cpeDeviceId: 'cpe-1',
      cpe: { deviceId: 'cpe-1' },
      cpeInterface: { name: 'wlan0', macAddress: mac },
      apInterface: null,
      state: 'DISCOVERED',
      missedPolls: 0,
      goodPolls: 1,
      lastPollId: 1,
      signalDbm: -58,
      snrDb: 35,
      noiseDbm: -95,
      txRateMbps: 300,
      rxRateMbps: 270,
      ccq: 97,
      uptimeS: 3600,
    });

    await poll(app, ap, [{ ...good(mac), signalDbm: -61, uptimeS: 3660 }]);
    const refreshed = await linkTo(app, tenant.token, 'ap-1', mac);
    expect(refreshed).toMatchObject({ linkId: link.linkId, signalDbm: -61, uptimeS: 3660, lastPollId: 2 });
    expect(new Date(refreshed.lastSeenAt).getTime()).toBeGreaterThanOrEqual(new Date(link.lastSeenAt).getTime());
    expect((await historyOf(app, tenant.token, link.id)).moves).toEqual(['NONE→DISCOVERED:DISCOVERED', 'DISCOVERED→ACTIVE:CONFIRMED']);
  });

  test('ACTIVE only after K consecutive good polls; a weak first sighting is DEGRADED', async ({ tenant }) => {
    await prepareTenant(app, tenant.token, { confirmPolls: 3 });
    const ap = await startAccessPoint(app, tenant, 'ap-1');
    const [strong, poor] = [uniqueMac(), uniqueMac()];
    await registerCpe(app, tenant.token, 'cpe-strong', strong);
    await registerCpe(app, tenant.token, 'cpe-weak', poor);

    await poll(app, ap, [good(strong), weak(poor)]);
    await poll(app, ap, [good(strong), weak(poor)]);
    expect((await linkTo(app, tenant.token, 'ap-1', strong)).state).toBe('DISCOVERED');
    await poll(app, ap, [good(strong), weak(poor)]);
    const confirmed = await linkTo(app, tenant.token, 'ap-1', strong);
    expect(confirmed).toMatchObject({ state: 'ACTIVE', goodPolls: 3 });
    const history = await historyOf(app, tenant.token, confirmed.id);
    expect(history.moves).toEqual(['NONE→DISCOVERED:DISCOVERED', 'DISCOVERED→ACTIVE:CONFIRMED']);
    expect(history.entries[1]!.details).toMatchObject({ pollId: 3, goodPolls: 3, confirmPolls: 3, signalDbm: -58, snrDb: 35, quality: 'good' });

    const degraded = await linkTo(app, tenant.token, 'ap-1', poor);
    expect(degraded.state).toBe('DEGRADED');
    expect((await historyOf(app, tenant.token, degraded.id)).moves).toEqual(['NONE→DISCOVERED:DISCOVERED', 'DISCOVERED→DEGRADED:SIGNAL_DEGRADED']);
  });

  test('a link per AP radio: the same station on two radios is two links, each counting its own polls', async ({ tenant }) => {
    await prepareTenant(app, tenant.token);
    const ap = await startAccessPoint(app, tenant, 'ap-1');
    const mac = uniqueMac();
    await registerCpe(app, tenant.token, 'cpe-1', mac);
    await registerInterface(app, tenant.token, { deviceId: 'ap-1', name: 'wlan1', macAddress: uniqueMac(), kind: 'WIFI' });
    await poll(app, ap, [good(mac)], { interface: 'wlan0' });
    await poll(app, ap, [good(mac)], { interface: 'wlan1' });
    await poll(app, ap, [], { interface: 'wlan1' });
    const both = (await links(app, tenant.token, { apDeviceId: 'ap-1' })).sort((a, b) => a.apInterfaceName.localeCompare(b.apInterfaceName));
    expect(both.map((link) => [link.apInterfaceName, link.missedPolls, link.apInterface?.name ?? null])).toEqual([
      ['wlan0', 0, null],
      ['wlan1', 1, 'wlan1'],
    ]);
  });

  test('an unknown MAC is kept as an unresolved registration and becomes a link once an interface has it', async ({ tenant }) => {
    await prepareTenant(app, tenant.token);
    const ap = await startAccessPoint(app, tenant, 'ap-1');
    const mac = uniqueMac();
    await poll(app, ap, [good(mac)]);
    await poll(app, ap, [{ ...good(mac), signalDbm: -63 }]);
    expect(await links(app, tenant.token, { apDeviceId: 'ap-1' })).toEqual([]);
    expect(await unresolved(tenant.token, 'ap-1')).toEqual([
      expect.objectContaining({ apDeviceId: 'ap-1', interfaceName: 'wlan0', stationMac: mac, signalDbm: -63, sightings: 2, lastPollId: 2 }),
    ]);

    await registerDevice(app, tenant.token, 'cpe-late');
    const registered = await registerInterface(app, tenant.token, { deviceId: 'cpe-late', name: 'ath0', macAddress: mac.replace(/:/g, '').toUpperCase() });
    expect(registered).toMatchObject({
      __typename: 'RegisterDeviceInterfacePayload',
      interface: { macAddress: mac, kind: 'OTHER' },
      resolvedLinks: [{ apDeviceId: 'ap-1', cpeDeviceId: 'cpe-late', cpeMac: mac, state: 'DISCOVERED' }],
    });
    expect(await unresolved(tenant.token, 'ap-1')).toEqual([]);
    const link = await linkTo(app, tenant.token, 'ap-1', mac);
    expect(link).toMatchObject({ cpeDeviceId: 'cpe-late', signalDbm: -63, lastPollId: 2, cpeInterface: { name: 'ath0' } });
    const history = await historyOf(app, tenant.token, link.id);
    expect(history.moves).toEqual(['NONE→DISCOVERED:DISCOVERED']);
    expect(history.entries[0]!.details).toMatchObject({ resolvedFrom: 'UNRESOLVED_REGISTRATION', sightings: 2 });

    // From now on it is an ordinary link: the next good poll confirms it (K = 2).
    await poll(app, ap, [good(mac)]);
    expect((await linkTo(app, tenant.token, 'ap-1', mac)).state).toBe('ACTIVE');
    expect(await unresolved(tenant.token)).toEqual([]);
  });

  test("a MAC never resolves to another tenant's device", async ({ tenant, otherTenant }) => {
    await prepareTenant(app, tenant.token);
    await prepareTenant(app, otherTenant.token);
    const mac = uniqueMac();
    await registerCpe(app, otherTenant.token, 'cpe-elsewhere', mac);
    const ap = await startAccessPoint(app, tenant, 'ap-1');
    await poll(app, ap, [good(mac)]);
    expect(await links(app, tenant.token)).toEqual([]);
    expect((await unresolved(tenant.token)).map((row) => row.stationMac)).toEqual([mac]);
    // Nor does the other tenant see this tenant's AP or its stations.
    expect(await links(app, otherTenant.token)).toEqual([]);
    expect(await unresolved(otherTenant.token)).toEqual([]);
    // The same MAC in this tenant resolves here (MACs are unique per tenant, not globally).
    await registerCpe(app, tenant.token, 'cpe-here', mac);
    expect((await linkTo(app, tenant.token, 'ap-1', mac)).cpeDeviceId).toBe('cpe-here');
  });

  test("the AP's own MAC is a loop, not a station", async ({ tenant }) => {
    await prepareTenant(app, tenant.token);
    const ap = await startAccessPoint(app, tenant, 'ap-1');
    const own = uniqueMac();
    await registerInterface(app, tenant.token, { deviceId: 'ap-1', name: 'br0', macAddress: own });
    expect(await poll(app, ap, [good(own)])).toEqual({ status: 'applied' });
    expect(await links(app, tenant.token)).toEqual([]);
    expect(await unresolved(tenant.token)).toEqual([]);
  });
});

describe('idempotency', () => {
  test('a repeated poll and an older poll (pollId or ts) change nothing', async ({ tenant }) => {
    await prepareTenant(app, tenant.token);
    const ap = await startAccessPoint(app, tenant, 'ap-1');
    const mac = uniqueMac();
    await registerCpe(app, tenant.token, 'cpe-1', mac);
    const ts = Date.now();
    expect(await poll(app, ap, [good(mac)], { pollId: 10, ts })).toEqual({ status: 'applied' });
    const before = await linkTo(app, tenant.token, 'ap-1', mac);

    // The same poll again (a redelivery), an older pollId, an older ts with a newer pollId.
    expect(await poll(app, ap, [good(mac)], { pollId: 10, ts })).toEqual({ status: 'duplicate' });
    expect(await poll(app, ap, [weak(mac)], { pollId: 9, ts: ts + 5_000 })).toEqual({ status: 'duplicate' });
    expect(await poll(app, ap, [], { pollId: 11, ts: ts - 1 })).toEqual({ status: 'duplicate' });
    const after = await linkTo(app, tenant.token, 'ap-1', mac);
    expect(after).toEqual(before);
    expect((await historyOf(app, tenant.token, before.id)).moves).toEqual(['NONE→DISCOVERED:DISCOVERED']);

    // The next real poll applies.
    expect(await poll(app, ap, [good(mac)], { pollId: 11, ts: ts + 1 })).toEqual({ status: 'applied' });
    expect((await linkTo(app, tenant.token, 'ap-1', mac)).state).toBe('ACTIVE');
  });

  test('polls of different radios of one AP are ordered independently', async ({ tenant }) => {
    await prepareTenant(app, tenant.token);
    const ap = await startAccessPoint(app, tenant, 'ap-1');
    const ts = Date.now();
    expect(await poll(app, ap, [], { interface: 'wlan0', pollId: 100, ts })).toEqual({ status: 'applied' });
    expect(await poll(app, ap, [], { interface: 'wlan1', pollId: 1, ts: ts - 60_000 })).toEqual({ status: 'applied' });
  });
});

describe('malformed polls', () => {
  /** pulse_mqtt_rejected_total{kind="wirelessRegistrations", reason}. */
  async function rejectedCount(reason: string): Promise<number> {
    const metric = await app.pulse.app.metrics.mqttRejected.get();
    return metric.values.find((value) => value.labels['kind'] === 'wirelessRegistrations' && value.labels['reason'] === reason)?.value ?? 0;
  }

  test('are rejected with a reason, counted, and store nothing', async ({ tenant }) => {
    await prepareTenant(app, tenant.token);
    const ap = await startAccessPoint(app, tenant, 'ap-1');
    const mac = uniqueMac();
    await registerCpe(app, tenant.token, 'cpe-1', mac);
    const invalidBefore = await rejectedCount('INVALID');
    const notJsonBefore = await rejectedCount('NOT_JSON');
    const base = { pollId: 1, interface: 'wlan0', ts: Date.now() };
    const bad = [
      { ...base, stations: [{ mac: 'not-a-mac' }] },
      { ...base, stations: Array.from({ length: 1025 }, (_, i) => ({ mac: `02:00:00:00:${(i >> 8).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}` })) },
      { ...base, pollId: -1, stations: [] },
      { ...base, pollId: undefined, stations: [] },
      { ...base, interface: '', stations: [] },
      { ...base, stations: [{ mac, signalDbm: 1e6 }] },
      { ...base, stations: [{ mac, ccq: 140 }] },
      { ...base, stations: [{ mac, snrDb: 'high' }] },
      { ...base, stations: 'all of them' },
    ];
    for (const payload of bad) {
      expect(await publishRaw(app, ap, JSON.stringify(payload))).toEqual({ status: 'rejected', reason: 'INVALID' });
    }
    expect(await publishRaw(app, ap, '{"pollId": 1, "stations": [')).toEqual({ status: 'rejected', reason: 'NOT_JSON' });
    expect(await rejectedCount('INVALID')).toBe(invalidBefore + bad.length);
    expect(await rejectedCount('NOT_JSON')).toBe(notJsonBefore + 1);
    expect(await links(app, tenant.token)).toEqual([]);
    // Nothing moved the cursor either: pollId 1 is still the first poll.
    expect(await poll(app, ap, [good(mac)], { pollId: 1 })).toEqual({ status: 'applied' });
  });
});
