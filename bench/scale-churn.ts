/**
 * Subscription churn for the scale suite: what a dashboard does over a day, compressed. Over a few
 * long-lived sockets, subscriptions are opened, confirmed registered (Pulse's active-subscription
 * gauge), then completed, in waves; a tenth of them are completed in the same breath as they are
 * opened (the client navigates away before the server has answered); and sockets themselves open,
 * subscribe and close without completing anything (a closed tab). Pulse's heap after a full GC is
 * read before and after: what is left over is what a dead subscription leaks.
 */
import WebSocket from 'ws';
import type { MemoryReading } from './lib/memory.js';

export interface ChurnOptions {
  url: string;
  token: string;
  query: string;
  /** Subscribe/complete cycles over the long-lived sockets. */
  cycles: number;
  sockets: number;
  /** Sockets that open, subscribe once and close without completing. */
  socketCycles: number;
  /** Resolves once Pulse counts exactly this many active subscriptions. */
  waitActive(count: number): Promise<void>;
  memory(): Promise<MemoryReading>;
  log(message: string): void;
}

export interface ChurnResult {
  cycles: number;
  socketCycles: number;
  seconds: number;
  before: MemoryReading;
  after: MemoryReading;
}

interface Connection {
  ws: WebSocket;
  nextId: number;
  error?: string;
}

async function connect(url: string, token: string): Promise<Connection> {
  const ws = new WebSocket(url, 'graphql-transport-ws', { perMessageDeflate: false });
  const connection: Connection = { ws, nextId: 1 };
  await new Promise<void>((resolve, reject) => {
    ws.on('error', (error) => {
      connection.error ??= error.message;
      reject(error);
    });
    ws.once('close', (code, reason) => reject(new Error(`closed ${code} ${reason.toString()} before connection_ack`)));
    ws.once('open', () => ws.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } })));
    ws.on('message', (data: Buffer) => {
      const message = JSON.parse(data.toString('utf8')) as { type?: string };
      if (message.type === 'connection_ack') resolve();
      else if (message.type === 'ping') ws.send('{"type":"pong"}');
      else if (message.type === 'error') connection.error ??= data.toString('utf8').slice(0, 300);
    });
  });
  return connection;
}

function subscribe(connection: Connection, query: string): string {
  const id = String(connection.nextId++);
  connection.ws.send(JSON.stringify({ id, type: 'subscribe', payload: { query } }));
  return id;
}

const complete = (connection: Connection, id: string) => connection.ws.send(JSON.stringify({ id, type: 'complete' }));

function close(connection: Connection): Promise<void> {
  return new Promise((resolve) => {
    if (connection.ws.readyState === WebSocket.CLOSED) return resolve();
    connection.ws.once('close', () => resolve());
    connection.ws.close(1000);
  });
}

/** `count` cycles in waves: every socket opens its share, Pulse confirms them, every socket completes them. */
async function waitedCycles(connections: Connection[], options: ChurnOptions, count: number, base: number): Promise<void> {
  const perWave = 50 * connections.length;
  for (let done = 0; done < count; done += perWave) {
    const wave = Math.min(perWave, count - done);
    const opened = connections.map(() => [] as string[]);
    for (let i = 0; i < wave; i++) opened[i % connections.length]!.push(subscribe(connections[i % connections.length]!, options.query));
    await options.waitActive(base + wave);
    connections.forEach((connection, i) => opened[i]!.forEach((id) => complete(connection, id)));
    await options.waitActive(base);
  }
}

async function hastyCycles(connections: Connection[], options: ChurnOptions, count: number, base: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const connection = connections[i % connections.length]!;
    complete(connection, subscribe(connection, options.query));
  }
  await options.waitActive(base);
}

async function socketCycles(options: ChurnOptions, count: number, base: number): Promise<void> {
  const perWave = 100;
  for (let done = 0; done < count; done += perWave) {
    const wave = await Promise.all(Array.from({ length: Math.min(perWave, count - done) }, () => connect(options.url, options.token)));
    for (const connection of wave) subscribe(connection, options.query);
    await options.waitActive(base + wave.length);
    await Promise.all(wave.map(close));
    await options.waitActive(base);
  }
}

async function churn(connections: Connection[], options: ChurnOptions, cycles: number, sockets: number): Promise<void> {
  const hasty = Math.floor(cycles / 10);
  await waitedCycles(connections, options, cycles - hasty, 0);
  await hastyCycles(connections, options, hasty, 0);
  await socketCycles(options, sockets, 0);
}

/** Runs the churn once small (so lazily built caches and code exist), reads the heap, runs it in full, reads again. */
export async function runChurn(options: ChurnOptions): Promise<ChurnResult> {
  const connections = await Promise.all(Array.from({ length: options.sockets }, () => connect(options.url, options.token)));
  try {
    await churn(connections, options, Math.min(1_000, options.cycles), Math.min(100, options.socketCycles));
    const before = await options.memory();
    options.log(`churn: ${options.cycles} subscribe/complete cycles over ${options.sockets} sockets, ${options.socketCycles} socket open/subscribe/close…`);
    const started = performance.now();
    await churn(connections, options, options.cycles, options.socketCycles);
    const seconds = (performance.now() - started) / 1000;
    const error = connections.find((c) => c.error)?.error;
    if (error) throw new Error(`churn: ${error}`);
    const after = await options.memory();
    return { cycles: options.cycles, socketCycles: options.socketCycles, seconds, before, after };
  } finally {
    await Promise.all(connections.map(close));
  }
}
