import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import type { PulseEventName } from '../../src/events/events.js';
import { createLogger } from '../../src/logger.js';
import { loadPulseConfig, startPulse, type RunningPulse } from '../../src/server.js';
import type { TestApp } from '../harness/app.js';
import { nextListener } from '../harness/listeners.js';

const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';

export interface BrowserSetup {
  pulse: RunningPulse;
  browser: Browser;
  /** Resolves when a subscriber of tenant `demo` (the development token's) listens for `event`. */
  subscribed(event: PulseEventName): Promise<void>;
  dispose(): Promise<void>;
}

/**
 * The embedded default as a newcomer runs it (development token for tenant `demo`, no demo fleet),
 * and Debian's Chromium, headless: no browser download, no network.
 */
export async function startBrowserSetup(dataDirPrefix: string): Promise<BrowserSetup> {
  const dataDir = await mkdtemp(path.join(tmpdir(), dataDirPrefix));
  const config = loadPulseConfig({ NODE_ENV: 'test', PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir, MQTT_PORT: '0', LOG_LEVEL: 'silent', DEMO: 'false' });
  const pulse = await startPulse(config, createLogger('silent'));
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  return {
    pulse,
    browser,
    // The harness's listener probe needs only the app's event bus.
    subscribed: (event) => nextListener({ pulse } as unknown as TestApp, event, 'demo'),
    async dispose() {
      await browser.close();
      await pulse.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
