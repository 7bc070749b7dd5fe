import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { PulseApi } from '../../src/modules/demo/simulator/api.js';
import { newStats, SimulatedDevice } from '../../src/modules/demo/simulator/device.js';
import type { RunningPulse } from '../../src/server.js';
import { startBrowserSetup, type BrowserSetup } from './support.js';

/**
 * A newcomer runs a subscription in GraphiQL on the embedded default: it authenticates with the
 * token of the Headers panel (sent as connectionParams), and a refusal is shown, not retried.
 */
describe('GraphiQL subscriptions in a real browser', () => {
  let setup: BrowserSetup;
  let pulse: RunningPulse;
  let browser: Browser;
  const devices: SimulatedDevice[] = [];

  beforeAll(async () => {
    setup = await startBrowserSetup('pulse-graphiql-ws-');
    ({ pulse, browser } = setup);
  }, 120_000);

  afterAll(async () => {
    await Promise.all(devices.map((device) => device.stop()));
    await setup?.dispose();
  });

  /** GraphiQL with `query` in its editor (GraphiQL keeps the editor's text in `?query=`). */
  async function openGraphiQL(query: string): Promise<Page> {
    const page = await browser.newPage();
    await page.goto(`${pulse.url}?query=${encodeURIComponent(query)}`);
    await expect.poll(() => page.locator('.graphiql-query-editor').innerText(), { timeout: 20_000 }).toContain('subscription');
    return page;
  }

  /** The result pane's text, as one line: its editor renders spaces as U+00A0 and wraps long lines. */
  const resultOf = async (page: Page) => (await page.locator('.result-window').innerText()).replace(/\s+/g, ' ');

  const listening = () => setup.subscribed('deviceConnectivityChanged');

  test('streams a simulated device coming online into the result pane', async () => {
    const api = new PulseApi(pulse.url, pulse.developmentToken!);
    const credentials = await api.ensureDevices([{ deviceId: 'sim-watch', name: 'Watched in GraphiQL' }]);
    const page = await openGraphiQL('subscription Watch { deviceConnectivityChanged(deviceId: "sim-watch") { deviceId previousStatus status reason } }');

    const subscribed = listening();
    await page.locator('.graphiql-execute-button').click();
    await subscribed;

    const device = new SimulatedDevice({
      mqttUrl: pulse.mqttUrl,
      tenantId: 'demo',
      deviceId: 'sim-watch',
      credentials: credentials.get('sim-watch')!,
      behaviour: { heartbeatSeconds: 30, telemetrySeconds: 0, applyDelayMs: 0 },
      stats: newStats(),
    });
    devices.push(device);
    await device.start();

    await expect.poll(() => resultOf(page), { timeout: 20_000 }).toContain('"status": "ONLINE"');
    const result = await resultOf(page);
    expect(result).toContain('"deviceId": "sim-watch"');
    expect(result).toContain('"reason": "MQTT_CONNECT"');
    expect(result).not.toContain('errors');
  }, 60_000);

  test('a subscription with a bad token in the Headers panel shows why it was refused, once', async () => {
    const page = await openGraphiQL('subscription Refused { deviceConnectivityChanged { deviceId status } }');
    const sockets: string[] = [];
    page.on('websocket', (socket) => sockets.push(socket.url()));
    await page.getByRole('button', { name: 'Headers' }).click();
    const headers = page.locator('.graphiql-editor-tool .graphiql-editor').last();
    await headers.click();
    await page.keyboard.press('Control+A');
    await page.keyboard.press('Backspace');
    await page.keyboard.insertText('{ "Authorization": "Bearer not-a-token" }');

    await page.locator('.graphiql-execute-button').click();
    await expect.poll(() => resultOf(page), { timeout: 20_000 }).toContain('Subscription refused');
    const result = await resultOf(page);
    expect(result).toContain('4403');
    // The server's own reason, asked over HTTP with the same headers.
    expect(result).toContain('Invalid token (INVALID_TOKEN)');
    // Not retried: the run is over (the button is back to ▶) and one socket was opened.
    await expect.poll(() => page.locator('.graphiql-execute-button').getAttribute('aria-label')).toMatch(/^Execute/);
    expect(sockets).toHaveLength(1);
  }, 60_000);
});
