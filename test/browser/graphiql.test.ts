import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { loadPulseConfig } from '../../src/server.js';
import { createLogger } from '../../src/logger.js';
import { startPulse, type RunningPulse } from '../../src/server.js';

const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';

/** A newcomer opens GraphiQL on the embedded default and runs the prefilled query: offline, no CDN. */
describe('GraphiQL in a real browser', () => {
  let dataDir: string;
  let pulse: RunningPulse;
  let browser: Browser;

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'pulse-graphiql-'));
    pulse = await startPulse(loadPulseConfig({ NODE_ENV: 'test', PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir, MQTT_PORT: '0', LOG_LEVEL: 'silent', DEMO: 'false' }), createLogger('silent'));
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await pulse?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  test('renders without external requests and runs the prefilled query with the development token', async () => {
    const page = await browser.newPage();
    const external: string[] = [];
    page.on('request', (request) => {
      if (!request.url().startsWith('http://127.0.0.1') && !request.url().startsWith('data:') && !request.url().startsWith('blob:')) external.push(request.url());
    });
    await page.goto(pulse.url);
    await page.locator('.graphiql-execute-button').click();
    await expect.poll(() => page.locator('.result-window').innerText(), { timeout: 20_000 }).toMatch(/"totalCount":\s*0/);
    expect(external).toEqual([]);
  }, 60_000);
});
