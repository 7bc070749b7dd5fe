import { createLogger } from '../../src/logger.js';
import { sweepLinks } from '../../src/modules/links/aging.js';
import { afterAll, beforeAll, describe, expect, test } from '../harness/fixtures.js';
import { startTestApp, type TestApp } from '../harness/app.js';
import { buildTopic } from '../harness/topics.js';
import { publishSettled, status } from '../connectivity/support.js';
import { at, closeClients, good, historyOf, linkTo, poll, prepareTenant, registerCpe, startAccessPoint, uniqueMac, weak, type AccessPoint } from './helpers.js';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(async () => {
  await closeClients();
  await app.stop();
});

/** An AP with one CPE whose link is ACTIVE (K = 2). */
async function activeLink(tenant: { tenantId: string; token: string }, thresholds: Record<string, unknown> = {}) {
  await prepareTenant(app, tenant.token, thresholds);
  const ap = await startAccessPoint(app, tenant, 'ap-1');
  const mac = uniqueMac();
  await registerCpe(app, tenant.token, 'cpe-1', mac);
  await poll(app, ap, [good(mac)]);
  await poll(app, ap, [good(mac)]);
  const link = await linkTo(app, tenant.token, 'ap-1', mac);
  expect(link.state).toBe('ACTIVE');
  return { ap, mac, link };
}

const stateOf = async (token: string, mac: string) => (await linkTo(app, token, 'ap-1', mac)).state;
/** The links worker's sweep as of `seconds` from now, narrowed to one tenant so no other test's links move. */
const sweepAt = (tenantId: string, seconds: number) =>
  sweepLinks(app.pulse.app.runner, new Date(Date.now() + seconds * 1000), app.config.links.defaults, { tenantId });

async function pollSignals(ap: AccessPoint, mac: string, signals: number[]): Promise<void> {
  for (const signalDbm of signals) await poll(app, ap, [at(mac, signalDbm)]);
}

describe('signal quality', () => {
  test('DEGRADED on a weak signal, back to ACTIVE only past the recover threshold (K polls)', async ({ tenant }) => {
    const { ap, mac, link } = await activeLink(tenant);
    await poll(app, ap, [weak(mac)]);
    expect(await stateOf(tenant.token, mac)).toBe('DEGRADED');
    // Above the degrade threshold (-75) but below recover (-70): still DEGRADED, however long.
    await pollSignals(ap, mac, [-73, -72, -71, -71]);
    expect(await stateOf(tenant.token, mac)).toBe('DEGRADED');
    // Past the recover threshold once: not yet (K = 2).
    await pollSignals(ap, mac, [-69]);
    expect(await stateOf(tenant.token, mac)).toBe('DEGRADED');
    await pollSignals(ap, mac, [-68]);
    expect(await stateOf(tenant.token, mac)).toBe('ACTIVE');
    const history = await historyOf(app, tenant.token, link.id);
    expect(history.moves).toEqual([
      'NONE→DISCOVERED:DISCOVERED',
      'DISCOVERED→ACTIVE:CONFIRMED',
      'ACTIVE→DEGRADED:SIGNAL_DEGRADED',
      'DEGRADED→ACTIVE:SIGNAL_RECOVERED',
    ]);
    expect(history.entries[2]!.details).toMatchObject({ signalDbm: -82, snrDb: 10, quality: 'poor', signalDegradeDbm: -75, signalRecoverDbm: -70 });
    expect(history.entries[3]!.details).toMatchObject({ signalDbm: -68, goodPolls: 2, quality: 'good' });
  });

  test('a signal hovering at the degrade threshold does not flap', async ({ tenant }) => {
    const { ap, mac, link } = await activeLink(tenant);
    await pollSignals(ap, mac, [-76, -74, -76, -74, -75.5, -73, -76, -72]);
    expect(await stateOf(tenant.token, mac)).toBe('DEGRADED');
    expect((await historyOf(app, tenant.token, link.id)).moves).toEqual([
      'NONE→DISCOVERED:DISCOVERED',
      'DISCOVERED→ACTIVE:CONFIRMED',
      'ACTIVE→DEGRADED:SIGNAL_DEGRADED',
    ]);
  });

  test('the minimum dwell holds ACTIVE through a poor poll right after confirmation', async ({ tenant }) => {
    const { ap, mac, link } = await activeLink(tenant, { minDwellSeconds: 3600 });
    await poll(app, ap, [weak(mac)]);
    await poll(app, ap, [weak(mac)]);
    expect(await stateOf(tenant.token, mac)).toBe('ACTIVE');
    expect((await historyOf(app, tenant.token, link.id)).moves).toHaveLength(2);
  });

  test('an SNR below its threshold degrades a link with a strong signal', async ({ tenant }) => {
    const { ap, mac } = await activeLink(tenant);
    await poll(app, ap, [{ mac, signalDbm: -50, snrDb: 12 }]);
    expect(await stateOf(tenant.token, mac)).toBe('DEGRADED');
  });
});

describe('missed polls', () => {
  test('DOWN after M polls of the radio without the station; a sighting resets the count', async ({ tenant }) => {
    const { ap, mac, link } = await activeLink(tenant, { downAfterMissedPolls: 3 });
    const other = uniqueMac();
    await poll(app, ap, [good(other)]);
    await poll(app, ap, []);
    expect(await linkTo(app, tenant.token, 'ap-1', mac)).toMatchObject({ state: 'ACTIVE', missedPolls: 2 });
    await poll(app, ap, [good(mac)]);
    expect(await linkTo(app, tenant.token, 'ap-1', mac)).toMatchObject({ state: 'ACTIVE', missedPolls: 0 });
    // A poll of another radio of the AP is not a missed poll of this link.
    await poll(app, ap, [], { interface: 'wlan1' });
    await poll(app, ap, []);
    await poll(app, ap, []);
    expect(await linkTo(app, tenant.token, 'ap-1', mac)).toMatchObject({ state: 'ACTIVE', missedPolls: 2 });
    await poll(app, ap, []);
    expect(await linkTo(app, tenant.token, 'ap-1', mac)).toMatchObject({ state: 'DOWN', missedPolls: 3 });
    // Figures stay those of the last sighting.
    expect((await linkTo(app, tenant.token, 'ap-1', mac)).signalDbm).toBe(-58);

    await poll(app, ap, [good(mac)]);
    await poll(app, ap, [good(mac)]);
    expect((await historyOf(app, tenant.token, link.id)).moves.slice(2)).toEqual([
      'ACTIVE→DOWN:MISSED_POLLS',
      'DOWN→DISCOVERED:SEEN_AGAIN',
      'DISCOVERED→ACTIVE:CONFIRMED',
    ]);
  });
});

describe('aging and the AP', () => {
  test('STALE when not seen for the stale age (the worker), and DOWN first when the AP radio went silent', async ({ tenant }) => {
    const { link, mac } = await activeLink(tenant, { staleAfterSeconds: 2000, apSilentAfterSeconds: 1000 });
    await sweepAt(tenant.tenantId, 500);
    expect(await stateOf(tenant.token, mac)).toBe('ACTIVE');
    await sweepAt(tenant.tenantId, 1500);
    await sweepAt(tenant.tenantId, 1500); // a second sweep finds nothing to do
    expect(await stateOf(tenant.token, mac)).toBe('DOWN');
    await sweepAt(tenant.tenantId, 2500);
    expect(await stateOf(tenant.token, mac)).toBe('STALE');
    const history = await historyOf(app, tenant.token, link.id);
    expect(history.moves.slice(2)).toEqual(['ACTIVE→DOWN:AP_SILENT', 'DOWN→STALE:NOT_SEEN']);
    expect(history.entries[2]!.details).toMatchObject({ apSilentAfterSeconds: 1000 });
    expect(history.entries[3]!.details).toMatchObject({ staleAfterSeconds: 2000 });
    expect(history.entries[3]!.pollId).toBeNull();
  });

  test('the registered worker does the same sweep', async ({ tenant }) => {
    const { mac } = await activeLink(tenant, { staleAfterSeconds: 1 });
    const worker = app.pulse.app.modules.workers.find((candidate) => candidate.name === 'links-aging')!;
    // Run alone (not runAllOnce): a clock ahead would also move other files' devices' presence.
    await worker.run({ runner: app.pulse.app.runner, services: app.pulse.app.services, logger: createLogger('silent'), now: new Date(Date.now() + 5_000) });
    expect(await stateOf(tenant.token, mac)).toBe('STALE');
  });

  test('STALE at once when the AP goes OFFLINE, and back when it reports again', async ({ tenant }) => {
    const { ap, mac, link } = await activeLink(tenant);
    const topic = buildTopic.status(tenant.tenantId, 'ap-1');
    await publishSettled(app, ap.client, topic, status('online', 'session-1'));
    await publishSettled(app, ap.client, topic, status('offline', 'session-1'));
    await app.pulse.app.reactions.idle();
    expect(await stateOf(tenant.token, mac)).toBe('STALE');

    await poll(app, ap, [good(mac)]);
    expect(await stateOf(tenant.token, mac)).toBe('DISCOVERED');
    await poll(app, ap, [good(mac)]);
    expect((await historyOf(app, tenant.token, link.id)).moves.slice(2)).toEqual([
      'ACTIVE→STALE:AP_OFFLINE',
      'STALE→DISCOVERED:SEEN_AGAIN',
      'DISCOVERED→ACTIVE:CONFIRMED',
    ]);
  });
});

describe('unknown access points', () => {
  test('a poll of an unknown AP is rejected and stores nothing', async ({ tenant }) => {
    // Mosquitto here is anonymous, so a client can publish under any device's prefix.
    const ap = await startAccessPoint(app, tenant, 'ap-real');
    const ghost = { ...ap, deviceId: 'ap-ghost' };
    expect(await poll(app, ghost, [good(uniqueMac())])).toEqual({ status: 'rejected', reason: 'UNKNOWN_DEVICE' });
  });
});

describe('maintenance windows', () => {
  const SCHEDULE = /* GraphQL */ `
    mutation($input: ScheduleDeviceMaintenanceInput!) {
      scheduleDeviceMaintenance(input: $input) {
        __typename
        ... on ScheduleDeviceMaintenancePayload { window { windowId deviceId startsAt endsAt reason } }
        ... on ValidationError { issues { path code } }
        ... on NotFound { resource key }
      }
    }`;

  test('DEGRADED and DOWN during a window are tracked and stored as suppressed, recovery is not', async ({ tenant }) => {
    const { ap, mac, link } = await activeLink(tenant);
    const scheduled = await app.gql<{ scheduleDeviceMaintenance: { __typename: string } }>(tenant.token, SCHEDULE, {
      input: { deviceId: 'cpe-1', startsAt: new Date(Date.now() - 60_000).toISOString(), endsAt: new Date(Date.now() + 3_600_000).toISOString(), reason: 'antenna swap' },
    });
    expect(scheduled.data?.scheduleDeviceMaintenance.__typename).toBe('ScheduleDeviceMaintenancePayload');
    await poll(app, ap, [weak(mac)]);
    await poll(app, ap, []);
    await poll(app, ap, []);
    expect(await stateOf(tenant.token, mac)).toBe('DOWN');
    await poll(app, ap, [good(mac)]);
    await poll(app, ap, [good(mac)]);
    const history = await historyOf(app, tenant.token, link.id);
    expect(history.entries.slice(2).map((entry) => `${entry.toState}:${entry.suppressed}`)).toEqual([
      'DEGRADED:true',
      'DOWN:true',
      'DISCOVERED:false',
      'ACTIVE:false',
    ]);
  });

  test('windows are validated', async ({ tenant }) => {
    await prepareTenant(app, tenant.token);
    await registerCpe(app, tenant.token, 'cpe-1', uniqueMac());
    const now = Date.now();
    const ask = async (input: Record<string, unknown>) =>
      (await app.gql<{ scheduleDeviceMaintenance: { __typename: string; issues?: Array<{ path: string[] }> } }>(tenant.token, SCHEDULE, { input })).data!
        .scheduleDeviceMaintenance;
    const iso = (offset: number) => new Date(now + offset).toISOString();
    expect(await ask({ deviceId: 'cpe-1', startsAt: iso(10_000), endsAt: iso(5_000) })).toMatchObject({ __typename: 'ValidationError', issues: [{ path: ['input', 'endsAt'] }] });
    expect(await ask({ deviceId: 'cpe-1', startsAt: iso(-20_000), endsAt: iso(-10_000) })).toMatchObject({ __typename: 'ValidationError' });
    expect(await ask({ deviceId: 'cpe-1', startsAt: iso(0), endsAt: iso(400 * 86_400_000) })).toMatchObject({ __typename: 'ValidationError' });
    expect(await ask({ deviceId: 'cpe-1', startsAt: iso(0), endsAt: iso(1000), reason: 'x'.repeat(501) })).toMatchObject({ __typename: 'ValidationError' });
    expect(await ask({ deviceId: 'nope', startsAt: iso(0), endsAt: iso(1000) })).toMatchObject({ __typename: 'NotFound' });
  });
});
