/**
 * Pulse in a child process for the restart tests, killed with SIGKILL (a real crash: no shutdown
 * hook runs). Their broker is the harness's Mosquitto with `persistent: true`.
 */
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import type { PulseEvents } from '../../src/events/events.js';
import '../../src/modules/commands/events.js';
import { TEST_JWT_SECRET, type GraphQLResponse } from '../harness/app.js';

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
