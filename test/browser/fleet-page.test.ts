import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { PulseApi, type DeviceCredentials } from '../../src/modules/demo/simulator/api.js';
import { newStats, SimulatedDevice } from '../../src/modules/demo/simulator/device.js';
import type { RunningPulse } from '../../src/server.js';
import { startBrowserSetup, type BrowserSetup } from './support.js';

/**
 * The live fleet page at `/`, as a newcomer opens it on the embedded default: the development
 * token is used without asking, the counts are the fleet's, and events stream in as they commit.
 */
describe('the live fleet page in a real browser', () => {
  let setup: BrowserSetup;
  let pulse: RunningPulse;
  let browser: Browser;
  let api: PulseApi;
  const devices: SimulatedDevice[] = [];

  beforeAll(async () => {
    setup = await startBrowserSetup('pulse-fleet-page-');
    ({ pulse, browser } = setup);
    api = new PulseApi(pulse.url, pulse.developmentToken!);
  }, 120_000);

  afterAll(async () => {
    await Promise.all(devices.map((device) => device.stop()));
    await setup?.dispose();
  });

  const root = () => pulse.url.replace(/\/graphql$/, '/');
  const count = (page: Page, status: string) => page.locator(`#count-${status}`).innerText();
  const feedRows = (page: Page) => page.locator('#feed .event').allInnerTexts();

  /** The page, once its socket is live and all of its subscriptions are registered with the server. */
  async function openLivePage(): Promise<Page> {
    const listening = Promise.all([setup.subscribed('deviceConnectivityChanged'), setup.subscribed('commandStatusChanged'), setup.subscribed('deviceChanged')]);
    const page = await browser.newPage();
    await page.goto(root());
    await expect.poll(() => page.locator('#connection-state').getAttribute('data-state'), { timeout: 20_000 }).toBe('live');
    await listening;
    return page;
  }

  function simulate(deviceId: string, credentials: DeviceCredentials): SimulatedDevice {
    const device = new SimulatedDevice({
      mqttUrl: pulse.mqttUrl,
      tenantId: 'demo',
      deviceId,
      credentials,
      behaviour: { heartbeatSeconds: 30, telemetrySeconds: 0, applyDelayMs: 0 },
      stats: newStats(),
    });
    devices.push(device);
    return device;
  }

  test('a device registered, then connecting, acking a command and raising an alert appears live, counts included', async () => {
    const page = await openLivePage();
    await expect.poll(() => count(page, 'total')).toBe('0');

    const credentials = await api.ensureDevices([{ deviceId: 'fleet-page-01', name: 'Seen on the fleet page' }]);
    await expect.poll(() => feedRows(page), { timeout: 20_000 }).toContainEqual(expect.stringMatching(/registry\s+fleet-page-01\s+REGISTERED/));
    await expect.poll(() => count(page, 'total')).toBe('1');
    await expect.poll(() => count(page, 'offline')).toBe('1');

    const device = simulate('fleet-page-01', credentials.get('fleet-page-01')!);
    await device.start();
    await expect.poll(() => feedRows(page), { timeout: 20_000 }).toContainEqual(expect.stringMatching(/connectivity\s+fleet-page-01\s+OFFLINE → ONLINE \(MQTT_CONNECT\)/));
    await expect.poll(() => count(page, 'online')).toBe('1');
    expect(await count(page, 'offline')).toBe('0');

    await api.request('mutation { sendCommand(input: { deviceId: "fleet-page-01", commandType: "reboot" }) { __typename } }');
    await expect.poll(() => feedRows(page), { timeout: 20_000 }).toContainEqual(expect.stringMatching(/command\s+fleet-page-01\s+reboot: DELIVERED/));

    await api.request(`mutation { createAlertRule(input: { name: "Too hot", kind: THRESHOLD, scope: DEVICE, deviceId: "fleet-page-01",
      metric: "temperature", condition: ABOVE, threshold: 60, severity: MAJOR }) { __typename } }`);
    await device.publish('telemetry', { metrics: { temperature: 71.5 } });
    await expect.poll(() => feedRows(page), { timeout: 20_000 }).toContainEqual(expect.stringMatching(/alert\s+fleet-page-01\s+MAJOR RAISED: Too hot \(temperature = 71\.5\)/));
    await page.close();
  }, 90_000);

  test('counts come from the server when the page opens, not only from events it saw', async () => {
    const page = await openLivePage();
    await expect.poll(() => count(page, 'total')).toBe('1');
    expect(await count(page, 'online')).toBe('1');
    await page.close();
  }, 60_000);

  test('a pasted token that is refused says why, and is not retried', async () => {
    const page = await openLivePage();
    const sockets: string[] = [];
    page.on('websocket', (socket) => sockets.push(socket.url()));
    await page.locator('#token').fill('not-a-token');
    await page.getByRole('button', { name: 'Connect' }).click();
    await expect.poll(() => page.locator('#connection-state').innerText(), { timeout: 20_000 }).toContain('Invalid token');
    expect(await page.locator('#connection-state').getAttribute('data-state')).toBe('refused');
    expect(sockets).toHaveLength(1);
    await page.close();
  }, 60_000);

  test('links to GraphiQL, metrics and the docs, which are served', async () => {
    const page = await browser.newPage();
    await page.goto(root());
    const links = await page.locator('nav a').evaluateAll((anchors) => anchors.map((anchor) => anchor.getAttribute('href')));
    expect(links).toEqual(['/graphql', '/metrics', '/ready', '/docs/']);
    const docs = await page.locator('footer a').evaluateAll((anchors) => anchors.map((anchor) => anchor.getAttribute('href')));
    expect(docs).toContain('/docs/device-protocol.md');
    await page.close();

    const protocol = await fetch(new URL('/docs/device-protocol.md', root()));
    expect(protocol.headers.get('content-type')).toBe('text/markdown; charset=utf-8');
    expect(await protocol.text()).toMatch(/^# /);
    // Only listed names reach the file system.
    expect((await fetch(new URL('/docs/..%2Fpackage.json', root()))).status).toBe(404);
  });
});
