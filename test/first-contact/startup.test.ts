/**
 * What a newcomer sees in the terminal: `node src/main.ts` as `npm start` runs it, as a real
 * process. A first line before the heavy imports, readable lines on a terminal (JSON otherwise),
 * a ready banner with the URLs and the development token on a line of its own, and a taken port
 * or a bad variable as one line with exit code 78, before any database work.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, test } from 'vitest';
import { createTokenVerifier } from '../../src/auth/jwt.js';
import { DEVELOPMENT_JWT_SECRET } from '../../src/config.js';
import { freePort } from '../harness/mosquitto.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

interface Started {
  lines: string[];
  stderr: () => string;
  /** Resolves with the first stdout line matching, or rejects when the process exits first. */
  line(match: RegExp): Promise<string>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  exited: Promise<number | null>;
}

async function startMain(env: Record<string, string>): Promise<Started & { dataDir: string }> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'pulse-startup-'));
  dirs.push(dataDir);
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: REPO,
    stdio: ['ignore', 'pipe', 'pipe'],
    // A clean environment, as on a fresh machine: no JWT_SECRET, no DATABASE_URL, no MQTT_URL.
    env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '', HOST: '127.0.0.1', DATA_DIR: dataDir, DEMO: 'false', ...env },
  });
  const lines: string[] = [];
  let stderr = '';
  let pending = '';
  const waiters = new Set<() => void>();
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    pending += chunk;
    const complete = pending.split('\n');
    pending = complete.pop()!;
    lines.push(...complete);
    for (const wake of waiters) wake();
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  void exited.then(() => {
    for (const wake of waiters) wake();
  });
  let done = false;
  void exited.then(() => (done = true));
  return {
    dataDir,
    lines,
    stderr: () => stderr,
    exited,
    line(match) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = lines.find((line) => match.test(line));
          if (found !== undefined || done) waiters.delete(check);
          if (found !== undefined) resolve(found);
          else if (done) reject(new Error(`exited before ${match}; stdout: ${lines.join('\n')}\nstderr: ${stderr}`));
        };
        waiters.add(check);
        check();
      });
    },
    async stop(signal = 'SIGINT') {
      child.kill(signal);
      return exited;
    },
  };
}

async function holdPort(port: number): Promise<Server> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(port, resolve));
  return server;
}

describe('start-up on a terminal', () => {
  test('a first line at once, readable lines, a ready banner with the token on its own line, a clean stop', async () => {
    const [port, mqttPort] = [await freePort(), await freePort()];
    const pulse = await startMain({ PORT: String(port), MQTT_PORT: String(mqttPort), LOG_FORMAT: 'pretty' });
    await pulse.line(/Pulse is ready/);
    // Before the modules are loaded, the database opened or the broker started.
    expect(pulse.lines[0]).toMatch(/^\d\d:\d\d:\d\d\.\d{3} INFO {2}Pulse is starting: embedded PostgreSQL in .*, embedded MQTT broker on port \d+, GraphQL on port \d+$/);
    const logLines = pulse.lines.slice(0, pulse.lines.findIndex((line) => line.includes('Pulse is ready')));
    for (const line of logLines.filter((text) => text.trim() !== '')) expect(line).toMatch(/^\d\d:\d\d:\d\d\.\d{3} (INFO|WARN) /);
    expect(logLines.join('\n')).toMatch(/database ready: \d+ migrations applied/);
    expect(logLines.join('\n')).toContain('JWT_SECRET is not set');

    await pulse.line(/Others: npm run token/);
    expect(pulse.lines).toContain(`  Fleet     http://127.0.0.1:${port}/   (live fleet page)`);
    expect(pulse.lines).toContain(`  GraphQL   http://127.0.0.1:${port}/graphql   (open it in a browser for GraphiQL)`);
    expect(pulse.lines).toContain(`  MQTT      mqtt://localhost:${mqttPort}`);
    const token = pulse.lines.find((line) => /^eyJ[\w-]+\.[\w-]+\.[\w-]+$/.test(line));
    expect(token).toBeDefined();
    // The warning no longer carries the token: it has a line of its own.
    expect(pulse.lines.filter((line) => line.includes(token!))).toHaveLength(1);
    const verifier = createTokenVerifier({ auth: { kind: 'secret', secret: DEVELOPMENT_JWT_SECRET, isDevelopmentSecret: true } });
    expect(await verifier.verify(token)).toMatchObject({ tenantId: 'demo', role: 'customer' });

    expect(await pulse.stop('SIGINT')).toBe(0);
    expect(pulse.lines.at(-1)).toMatch(/INFO {2}stopped$/);
    expect(pulse.stderr()).toBe('');
  }, 120_000);

  test('without a terminal the lines are JSON, the ready entry carrying the URLs and the token', async () => {
    const pulse = await startMain({ PORT: String(await freePort()), MQTT_PORT: String(await freePort()) });
    const ready = JSON.parse(await pulse.line(/"msg":"Pulse is ready"/)) as Record<string, unknown>;
    expect(ready).toMatchObject({ level: 30, msg: 'Pulse is ready', graphqlUrl: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/graphql$/), mqttUrl: expect.stringMatching(/^mqtt:/) });
    expect(typeof ready['developmentToken']).toBe('string');
    for (const line of pulse.lines.filter((text) => text !== '')) expect(() => JSON.parse(line)).not.toThrow();
    expect(await pulse.stop('SIGTERM')).toBe(0);
  }, 120_000);
});

describe('start-up mistakes: one line, exit code 78, nothing created', () => {
  test.each([
    ['PORT', 'HTTP'],
    ['MQTT_PORT', 'MQTT'],
  ] as const)('a taken %s', async (variable, _what) => {
    const [port, mqttPort] = [await freePort(), await freePort()];
    const held = await holdPort(variable === 'PORT' ? port : mqttPort);
    try {
      const pulse = await startMain({ PORT: String(port), MQTT_PORT: String(mqttPort), LOG_FORMAT: 'pretty' });
      expect(await pulse.exited).toBe(78);
      const taken = variable === 'PORT' ? port : mqttPort;
      const message = pulse.stderr().trim();
      expect(message.split('\n')).toHaveLength(1);
      expect(message).toMatch(new RegExp(`^Port ${taken} is already in use, .*\\(${variable}\\)\\. .*${variable}=${taken + 1} npm start`));
      expect(message).not.toMatch(/\n\s+at /);
      // Refused before the database: no data directory was initialised.
      expect(existsSync(path.join(pulse.dataDir, 'PG_VERSION'))).toBe(false);
      expect(pulse.lines.filter((line) => line !== '')).toHaveLength(1);
    } finally {
      await new Promise((resolve) => held.close(resolve));
    }
  }, 60_000);

  test('bad variables are listed together', async () => {
    const pulse = await startMain({ PORT: 'eighty', PRESENCE_STALE_AFTER_SECONDS: '-5', LOG_FORMAT: 'pretty' });
    expect(await pulse.exited).toBe(78);
    expect(pulse.stderr()).toMatch(/^Invalid configuration:\n {2}- PORT: .*\n {2}- PRESENCE_STALE_AFTER_SECONDS: /);
  }, 60_000);

  test('an unknown LOG_FORMAT', async () => {
    const pulse = await startMain({ LOG_FORMAT: 'fancy' });
    expect(await pulse.exited).toBe(78);
    expect(pulse.stderr()).toContain('LOG_FORMAT: must be "json" or "pretty", got "fancy"');
  }, 60_000);
});
