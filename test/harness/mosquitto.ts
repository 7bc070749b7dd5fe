/**
 * A private Mosquitto per test app: every app subscribes to all device topics, so on a shared
 * broker any running app could ingest another test's message. The real Mosquitto binary, its own
 * config, a free port, stopped by PID.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A port the OS says is free right now. */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function waitForPort(port: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = tcpConnect(port, '127.0.0.1');
      const settle = (open: boolean) => {
        socket.destroy();
        resolve(open);
      };
      socket.once('connect', () => settle(true)).once('error', () => settle(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on ${port}`);
    // A bounded poll for a process to start listening; there is no event to wait for instead.
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export interface OwnMosquitto {
  url: string;
  port: number;
  /** The running process's PID. */
  pid(): number | undefined;
  /** Stops the process (SIGTERM to its PID) and waits for it to exit. */
  stop(): Promise<void>;
  /** Starts it again on the same port. */
  start(): Promise<void>;
  /** Stops it for good and removes its configuration. */
  dispose(): Promise<void>;
}

/**
 * A private Mosquitto on a free port (anonymous): only this test's app sees its traffic. In memory,
 * or `persistent`: sessions and queued QoS 1 messages kept across its own restarts (saved on
 * SIGTERM), so a broker restart loses nothing it accepted.
 */
export async function startMosquitto(options: { extraConfig?: string[]; persistent?: boolean } = {}): Promise<OwnMosquitto> {
  const port = await freePort();
  const dir = await mkdtemp(join(tmpdir(), 'pulse-mosquitto-'));
  const config = join(dir, 'mosquitto.conf');
  const persistence = options.persistent ? ['persistence true', `persistence_location ${dir}/`] : ['persistence false'];
  const lines = [`listener ${port} 127.0.0.1`, 'allow_anonymous true', ...persistence, 'log_dest none', ...(options.extraConfig ?? [])];
  await writeFile(config, `${lines.join('\n')}\n`);
  let child: ChildProcess | undefined;
  const own: OwnMosquitto = {
    url: `mqtt://127.0.0.1:${port}`,
    port,
    pid: () => child?.pid,
    async start() {
      child = spawn('mosquitto', ['-c', config], { stdio: 'ignore' });
      await waitForPort(port);
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
