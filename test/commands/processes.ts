/**
 * Processes the restart tests stop and start: a Mosquitto that persists its sessions, and Pulse
 * in a child process that can be killed with SIGKILL (a real crash: no shutdown hook runs).
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PulseEvents } from '../../src/events/events.js';
import '../../src/modules/commands/events.js';
import { TEST_JWT_SECRET, type GraphQLResponse } from '../harness/app.js';
import { freePort, type OwnMosquitto } from '../harness/mosquitto.js';

/**
 * A private Mosquitto that keeps sessions and queued QoS 1 messages across its own restarts
 * (persistence on, saved on SIGTERM): a broker restart then loses nothing that was accepted.
 */
export async function startPersistentMosquitto(): Promise<OwnMosquitto> {
  const port = await freePort();
  const dir = await mkdtemp(join(tmpdir(), 'pulse-mosquitto-persistent-'));
  const config = join(dir, 'mosquitto.conf');
  await writeFile(config, `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence true\npersistence_location ${dir}/\nlog_dest none\n`);
  let child: ChildProcess | undefined;
  const own: OwnMosquitto = {
    url: `mqtt://127.0.0.1:${port}`,
    port,
    pid: () => child?.pid,
    async start() {
      child = spawn('mosquitto', ['-c', config], { stdio: 'ignore' });
      await waitForListener(port);
    },
    async stop() {
      const running = child;
      child = undefined;
      if (!running || running.exitCode !== null || running.pid === undefined) return;
      const exited = once(running, 'exit');
      process.kill(running.pid, 'SIGTERM');
      await exited;
    },
    async dispose() {
      await own.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
  await own.start();
  return own;
}

/** Resolves once something accepts connections on `port` (a bounded poll: a starting process emits no event). */
async function waitForListener(port: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = createConnection(port, '127.0.0.1');
      socket.once('connect', () => (socket.destroy(), resolve(true))).once('error', () => (socket.destroy(), resolve(false)));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on ${port}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export interface PulseProcess {
  port: number;
  gql<T = Record<string, unknown>>(token: string, query: string, variables?: Record<string, unknown>): Promise<GraphQLResponse<T>>;
  /** Starts forwarding the tenant's commandStatusChanged events; resolves once the child listens. */
  watch(tenantId: string): Promise<void>;
  /** The next forwarded event (in commit order). */
  nextEvent(): Promise<PulseEvents['commandStatusChanged']>;
  /** SIGKILL, and wait for the exit. */
  kill(): Promise<void>;
}

/** Pulse (startPulse, workers off) in a child process with the test harness's configuration plus `env`. */
export async function startPulseProcess(env: Record<string, string>): Promise<PulseProcess> {
  const child = fork(fileURLToPath(new URL('./pulse-process.ts', import.meta.url)), [], {
    execArgv: ['--import', 'tsx'],
    env: {
      PATH: process.env['PATH'],
      NODE_ENV: 'test',
      PORT: '0',
      HOST: '127.0.0.1',
      DATABASE_POOL_SIZE: '4',
      JWT_SECRET: TEST_JWT_SECRET,
      RATE_LIMIT_PER_MINUTE: '100000',
      LOG_LEVEL: process.env['TEST_LOG_LEVEL'] ?? 'silent',
      ...env,
    },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = once(child, 'exit');
  type Event = PulseEvents['commandStatusChanged'];
  const events: Event[] = [];
  const waiting: Array<(event: Event) => void> = [];
  const watching = new Map<string, () => void>();
  const port = await new Promise<number>((resolve, reject) => {
    child.on('message', (raw) => {
      const message = raw as { port?: number; event?: Event; watching?: string };
      if (message.port !== undefined) resolve(message.port);
      if (message.watching !== undefined) watching.get(message.watching)?.();
      if (message.event) {
        events.push(message.event);
        while (waiting.length > 0 && events.length > 0) waiting.shift()!(events.shift()!);
      }
    });
    child.once('exit', (code, signal) => reject(new Error(`pulse process exited before it was ready (${code ?? signal})`)));
  });
  return {
    port,
    async gql(token, query, variables) {
      const response = await fetch(`http://127.0.0.1:${port}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ query, variables }),
      });
      return (await response.json()) as GraphQLResponse<never>;
    },
    watch(tenantId) {
      return new Promise((resolve) => {
        watching.set(tenantId, resolve);
        child.send({ watch: tenantId });
      });
    },
    nextEvent: () => (events.length > 0 ? Promise.resolve(events.shift()!) : new Promise((resolve) => waiting.push(resolve))),
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}
