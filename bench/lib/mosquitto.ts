/**
 * A private Mosquitto for the MQTT benchmark, so that other processes using the shared broker on
 * 1883 (tests running on the same machine) neither add messages to the counts nor take CPU from
 * the broker's queues. Falls back to BENCH_MQTT_URL / the shared broker when no binary is found.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface Broker {
  url: string;
  /** What it is, for the report. */
  description: string;
  stop(): Promise<void>;
}

const CANDIDATES = ['/usr/sbin/mosquitto', '/usr/bin/mosquitto', '/usr/local/sbin/mosquitto', '/usr/local/bin/mosquitto'];

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`mosquitto did not listen on ${port}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * Starts `mosquitto -c <conf>` on a free port: Mosquitto's defaults (max_inflight_messages 20, or
 * BENCH_MQTT_MAX_INFLIGHT)
 * except no persistence and an unbounded per-client queue, so a burst of K QoS 1 messages is
 * queued for a slow subscriber instead of dropped past the default 1,000.
 */
export async function startBroker(externalUrl: string | undefined): Promise<Broker> {
  const binary = CANDIDATES.find((candidate) => existsSync(candidate));
  if (externalUrl || !binary) {
    const url = externalUrl ?? 'mqtt://127.0.0.1:1883';
    return { url, description: `external broker at ${url}`, stop: async () => undefined };
  }
  const dir = await mkdtemp(path.join(tmpdir(), 'pulse-bench-mqtt-'));
  const port = await freePort();
  const conf = path.join(dir, 'mosquitto.conf');
  await writeFile(
    conf,
    [
      `listener ${port} 127.0.0.1`,
      'allow_anonymous true',
      'persistence false',
      'max_queued_messages 0',
      ...(process.env['BENCH_MQTT_MAX_INFLIGHT'] ? [`max_inflight_messages ${process.env['BENCH_MQTT_MAX_INFLIGHT']}`] : []),
      'log_dest stderr',
      'log_type error',
      '',
    ].join('\n'),
  );
  const child: ChildProcess = spawn(binary, ['-c', conf], { stdio: ['ignore', 'ignore', 'inherit'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    await waitForPort(port, 5_000);
  } catch (error) {
    child.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    url: `mqtt://127.0.0.1:${port}`,
    description: `private mosquitto (${binary}) on port ${port}, persistence off, unbounded queue`,
    async stop() {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
