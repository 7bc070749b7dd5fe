import { sweepLinks } from '../../src/modules/links/aging.js';
import { startEmbeddedTestApp, type TestApp } from '../harness/app.js';
import { afterAll, beforeAll, describe, expect, test } from '../harness/fixtures.js';
import { closeClients, good, historyOf, linkTo, poll, prepareTenant, registerCpe, registerInterface, startAccessPoint, uniqueMac, weak } from './helpers.js';

/**
 * The same SQL on the embedded default: PGlite (PostgreSQL 18 in WASM) and the embedded broker,
 * so a newcomer's `npm start` runs discovery, the state machine and the sweep too.
 */
let app: TestApp;
beforeAll(async () => {
  app = await startEmbeddedTestApp('pulse-links-');
}, 120_000);
afterAll(async () => {
  await closeClients();
  await app?.stop();
});

describe('wireless links on PGlite', () => {
  test('discovery, resolution, state changes and the sweep', async ({ tenant }) => {
    expect(app.pulse.database.kind).toBe('pglite');
    await prepareTenant(app, tenant.token, { staleAfterSeconds: 100 });
    const ap = await startAccessPoint(app, tenant, 'ap-1');
    const [known, late] = [uniqueMac(), uniqueMac()];
    await registerCpe(app, tenant.token, 'cpe-1', known);
    await poll(app, ap, [good(known), good(late)]);
    await poll(app, ap, [weak(known), good(late)]);
    const link = await linkTo(app, tenant.token, 'ap-1', known);
    expect(link.state).toBe('DEGRADED');

    await registerCpe(app, tenant.token, 'cpe-2', late);
    await registerInterface(app, tenant.token, { deviceId: 'ap-1', name: 'wlan0', macAddress: uniqueMac() });
    expect(await linkTo(app, tenant.token, 'ap-1', late)).toMatchObject({ cpeDeviceId: 'cpe-2', state: 'DISCOVERED', apInterface: { name: 'wlan0' } });

    await sweepLinks(app.pulse.app.runner, new Date(Date.now() + 200_000), app.config.links.defaults, { tenantId: tenant.tenantId });
    expect((await historyOf(app, tenant.token, link.id)).moves).toEqual([
      'NONE→DISCOVERED:DISCOVERED',
      'DISCOVERED→DEGRADED:SIGNAL_DEGRADED',
      'DEGRADED→STALE:NOT_SEEN',
    ]);
    expect((await linkTo(app, tenant.token, 'ap-1', late)).state).toBe('STALE');
  });
});
