/**
 * Scale (issue 13): 20,000 graphql-ws subscribers on one Pulse, one real event to all of them, and
 * subscription churn.
 *
 * A Pulse of its own (bench/scale-server.ts, `--expose-gc`) and client processes
 * (bench/scale-clients.ts) holding the sockets, so the load generator is not the limit. Order:
 * 1. churn (bench/scale-churn.ts) on the fresh Pulse: heap after GC before and after;
 * 2. N subscribers of `deviceChanged { change deviceId }`: RSS and heap after GC before and after
 *    connecting, divided by N; then an `updateDevice` mutation, twice (the first warms up): each
 *    client stamps its delivery, latency = receipt − the moment the mutation was sent;
 * 3. the limit: a bare `ws` server (bench/scale-raw-server.ts) with the same sockets, sending the
 *    bytes Pulse sent to every one of them, measured the same way.
 * One machine, so every process reads the same clock. A process may hold no more files than
 * its open-files limit (hard limit 20,000 on the bench machine, not raisable without
 * CAP_SYS_RESOURCE): sockets are capped below it and the subscribers beyond ride as a second
 * subscription on some sockets (graphql-ws multiplexes them), for the raw server as a second copy.
 */
import { fileURLToPath } from 'node:url';
import type { BenchContext } from './context.js';
import { startChild, type BenchChild } from './lib/child.js';
import { graphqlClient } from './lib/graphql.js';
import { openFilesLimit, pulseMetricsMemory, type MemoryReading } from './lib/memory.js';
import { percentile } from './lib/workers.js';
import type { Row } from './report.js';
import type { ConnectRequest, RoundResult } from './scale-protocol.js';
import { runChurn, type ChurnResult } from './scale-churn.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const script = (name: string) => fileURLToPath(new URL(`./${name}`, import.meta.url));
const TSX = ['--import', 'tsx'];
/** Files a server keeps besides its sockets: stdio, IPC, the database pool, MQTT, V8 and libuv. */
const FILES_RESERVE = 256;
const QUERY = 'subscription BenchScale { deviceChanged { change deviceId } }';
const TRIGGER = 'mutation BenchScaleTrigger($input: UpdateDeviceInput!) { updateDevice(input: $input) { __typename } }';
const GOAL_P99_MS = 250;
const GOAL_KB_PER_SUBSCRIBER = 20;
const GOAL_CHURN_GROWTH = 0.1;

const wallClock = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const kb = (bytes: number) => bytes / 1024;
const mb = (bytes: number) => bytes / 1048576;

interface Round {
  p50: number;
  p99: number;
  max: number;
  deliveries: number;
  errors: number;
  sample?: string;
}

interface Side {
  sockets: number;
  subscribers: number;
  before: MemoryReading;
  idle: MemoryReading;
  cold: Round;
  warm: Round;
  /** Pulse: the trigger mutation's response time (ms) in the measured round. */
  triggerMs?: number;
  /** Raw: the server's own loop over every socket (ms) in the measured round; the rest is the kernel and the clients. */
  sendMs?: number;
}

/** Polls `read` until it returns `target` (or fails after `timeoutMs`); bench plumbing, not a test. */
async function until(read: () => Promise<number>, target: number, timeoutMs: number, what: string, check?: () => Promise<void>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let value = await read();
  while (value !== target) {
    if (Date.now() > deadline) throw new Error(`${what}: ${value}, expected ${target} after ${timeoutMs} ms`);
    await check?.();
    await sleep(value < target ? 100 : 20);
    value = await read();
  }
}

/** Splits `total` as evenly as possible over `parts`. */
const shares = (total: number, parts: number) => Array.from({ length: parts }, (_, i) => Math.floor(total / parts) + (i < total % parts ? 1 : 0));

async function connectAll(clients: BenchChild[], request: Omit<ConnectRequest, 'sockets' | 'doubled'>, sockets: number, doubled: number): Promise<void> {
  const socketShares = shares(sockets, clients.length);
  const doubledShares = shares(doubled, clients.length);
  await Promise.all(clients.map((client, i) => client.request('connect', { ...request, sockets: socketShares[i]!, doubled: doubledShares[i]! } satisfies ConnectRequest)));
}

async function firstClientError(clients: BenchChild[]): Promise<void> {
  const errors = await Promise.all(clients.map((client) => client.request<string | null>('firstError')));
  const error = errors.find(Boolean);
  if (error) throw new Error(`client: ${error}`);
}

/** One event to every subscriber: arm the clients, trigger, collect every receipt. */
async function round(clients: BenchChild[], trigger: () => Promise<void>, timeoutMs: number): Promise<Round> {
  await Promise.all(clients.map((client) => client.request('arm')));
  const triggeredAt = wallClock();
  await trigger();
  const results = await Promise.all(clients.map((client) => client.request<RoundResult>('finish', { timeoutMs })));
  const latencies = results.flatMap((r) => r.receivedAt.map((at) => at - triggeredAt)).sort((a, b) => a - b);
  return {
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    max: latencies.at(-1) ?? 0,
    deliveries: latencies.length,
    errors: results.reduce((sum, r) => sum + r.errors, 0),
    sample: results.find((r) => r.sample)?.sample,
  };
}

async function startClients(count: number): Promise<BenchChild[]> {
  return Promise.all(
    Array.from({ length: count }, (_, i) =>
      startChild({ name: `scale-clients-${i}`, script: script('scale-clients.ts'), cwd: ROOT, execArgv: TSX, env: { PATH: process.env['PATH'], NODE_ENV: 'production' } }),
    ),
  );
}

async function startScalePulse(ctx: BenchContext): Promise<BenchChild> {
  return startChild({
    name: 'pulse-scale',
    script: script('scale-server.ts'),
    cwd: ROOT,
    execArgv: [...TSX, '--expose-gc'],
    env: {
      PATH: process.env['PATH'],
      NODE_ENV: 'production',
      PORT: '0',
      HOST: '127.0.0.1',
      DATABASE_URL: ctx.db.appUrl,
      MIGRATION_DATABASE_URL: ctx.db.ownerUrl,
      DATABASE_POOL_SIZE: String(ctx.options.poolSize),
      MQTT_URL: ctx.brokerUrl,
      MQTT_CLIENT_ID: `pulse-bench-scale-${process.pid}`,
      JWT_SECRET: ctx.jwtSecret,
      // 20,000 subscribes of one subject in a minute: the per-subject limiter would refuse them.
      RATE_LIMIT_PER_MINUTE: '1000000000',
      LOG_LEVEL: 'silent',
      ...(process.env['BENCH_SCALE_HEAP_SNAPSHOT'] ? { BENCH_SCALE_HEAP_SNAPSHOT: process.env['BENCH_SCALE_HEAP_SNAPSHOT'] } : {}),
    },
  });
}

async function measurePulse(ctx: BenchContext, pulse: BenchChild, clients: BenchChild[], sockets: number, subscribers: number): Promise<{ side: Side; after: MemoryReading }> {
  const timeoutMs = ctx.options.scale.timeoutSeconds * 1000;
  const memory = async () => {
    await pulse.request('gc');
    return pulseMetricsMemory(pulse.port);
  };
  const active = () => pulse.request<number>('activeSubscriptions');
  // Snapshots first: writing one costs RSS (not heap) that the reading after it would show.
  await pulse.request('heapSnapshot', { label: 'scale-before' });
  const before = await memory();
  ctx.log(`scale: ${subscribers} graphql-ws subscribers over ${sockets} sockets, ${clients.length} client processes…`);
  const connectStarted = performance.now();
  await connectAll(clients, { url: `ws://127.0.0.1:${pulse.port}/graphql`, protocol: 'graphql-ws', token: ctx.token, query: QUERY, concurrency: 64 }, sockets, subscribers - sockets);
  await until(active, subscribers, timeoutMs, 'active subscriptions', () => firstClientError(clients));
  ctx.log(`scale: ${subscribers} subscribed in ${((performance.now() - connectStarted) / 1000).toFixed(1)} s`);
  const idle = await memory();
  if (await pulse.request('heapSnapshot', { label: 'scale-idle' })) ctx.log('scale: heap snapshots written; RSS per subscriber includes their cost, read the heap figure');

  const api = graphqlClient(pulse.port, ctx.token, 1);
  let triggerMs = 0;
  let name = 0;
  const trigger = async () => {
    const sent = performance.now();
    const result = await api.request<{ updateDevice: { __typename: string } }>(TRIGGER, { input: { deviceId: ctx.db.deviceIds[0], name: `bench-scale-${name++}` } });
    triggerMs = performance.now() - sent;
    const typename = result.data?.updateDevice.__typename;
    if (result.errors || !typename || typename.endsWith('Error')) throw new Error(`updateDevice: ${JSON.stringify(result).slice(0, 300)}`);
  };
  try {
    const cold = await round(clients, trigger, timeoutMs);
    await sleep(500);
    const warm = await round(clients, trigger, timeoutMs);
    await Promise.all(clients.map((client) => client.request('close')));
    await until(active, 0, timeoutMs, 'active subscriptions after every socket closed');
    const after = await memory();
    return { side: { sockets, subscribers, before, idle, cold, warm, triggerMs }, after };
  } finally {
    api.close();
  }
}

async function measureRaw(ctx: BenchContext, clients: BenchChild[], sockets: number, subscribers: number, message: string): Promise<Side> {
  const timeoutMs = ctx.options.scale.timeoutSeconds * 1000;
  const raw = await startChild({ name: 'scale-raw', script: script('scale-raw-server.ts'), cwd: ROOT, execArgv: [...TSX, '--expose-gc'], env: { PATH: process.env['PATH'], NODE_ENV: 'production' } });
  try {
    const memory = () => raw.request<MemoryReading>('memory');
    const before = await memory();
    ctx.log(`scale: raw ws, ${sockets} sockets…`);
    await connectAll(clients, { url: `ws://127.0.0.1:${raw.port}/ws`, protocol: 'raw', concurrency: 64 }, sockets, subscribers - sockets);
    await until(async () => (await raw.request<{ deliveries: number }>('sockets')).deliveries, subscribers, timeoutMs, 'raw deliveries per broadcast');
    const idle = await memory();
    let sendMs = 0;
    const trigger = async () => void ({ sendMs } = await raw.request<{ sendMs: number }>('broadcast', { message }));
    const cold = await round(clients, trigger, timeoutMs);
    await sleep(500);
    const warm = await round(clients, trigger, timeoutMs);
    await Promise.all(clients.map((client) => client.request('close')));
    return { sockets, subscribers, before, idle, cold, warm, sendMs };
  } finally {
    await raw.stop();
  }
}

const perSubscriberKb = (side: Side, key: keyof MemoryReading) => kb(side.idle[key] - side.before[key]) / side.subscribers;
const roundText = (r: Round) => `p50 ${r.p50.toFixed(0)} ms, p99 ${r.p99.toFixed(0)} ms, last ${r.max.toFixed(0)} ms`;

function rows(pulse: Side, raw: Side, afterClose: MemoryReading, churn: ChurnResult): Row[] {
  const spread = pulse.subscribers > pulse.sockets ? ` (${pulse.sockets.toLocaleString('en-US')} sockets, ${(pulse.subscribers - pulse.sockets).toLocaleString('en-US')} of them with a second subscription: open-files limit)` : '';
  const growth = churn.after.heapUsedBytes / churn.before.heapUsedBytes - 1;
  return [
    {
      suite: 'scale',
      title: `One event to ${pulse.subscribers.toLocaleString('en-US')} subscribers, p99 event → client`,
      pulse: { value: pulse.warm.p99, unit: 'ms', detail: `${roundText(pulse.warm)}; first event ${roundText(pulse.cold)}; the mutation answered in ${pulse.triggerMs?.toFixed(0)} ms` },
      referenceName: 'raw ws broadcast',
      reference: { value: raw.warm.p99, unit: 'ms', detail: `${roundText(raw.warm)}; first ${roundText(raw.cold)}; the server's send loop took ${raw.sendMs?.toFixed(0)} ms` },
      lowerIsBetter: true,
      notes: [
        `${pulse.warm.deliveries} deliveries of deviceChanged { change deviceId }${spread}; trigger: an updateDevice mutation, latency from sending it to each client's receipt`,
        `goal p99 ≤ ${GOAL_P99_MS} ms: ${pulse.warm.p99 <= GOAL_P99_MS ? 'met' : 'NOT met'}`,
      ],
    },
    {
      suite: 'scale',
      title: 'Memory per idle subscriber (RSS after GC)',
      pulse: {
        value: perSubscriberKb(pulse, 'rssBytes'),
        unit: 'KB',
        detail: `RSS ${mb(pulse.before.rssBytes).toFixed(0)} → ${mb(pulse.idle.rssBytes).toFixed(0)} MB, heap ${mb(pulse.before.heapUsedBytes).toFixed(0)} → ${mb(pulse.idle.heapUsedBytes).toFixed(0)} MB (${perSubscriberKb(pulse, 'heapUsedBytes').toFixed(1)} KB each), external ${perSubscriberKb(pulse, 'externalBytes').toFixed(1)} KB each; heap after every socket closed ${mb(afterClose.heapUsedBytes).toFixed(0)} MB`,
      },
      referenceName: 'raw ws socket',
      reference: {
        value: perSubscriberKb(raw, 'rssBytes'),
        unit: 'KB',
        detail: `RSS ${mb(raw.before.rssBytes).toFixed(0)} → ${mb(raw.idle.rssBytes).toFixed(0)} MB, heap ${perSubscriberKb(raw, 'heapUsedBytes').toFixed(1)} KB each`,
      },
      lowerIsBetter: true,
      notes: [`from Pulse's /metrics after a full GC; divided by ${pulse.subscribers.toLocaleString('en-US')}`, `goal ≤ ${GOAL_KB_PER_SUBSCRIBER} KB: ${perSubscriberKb(pulse, 'rssBytes') <= GOAL_KB_PER_SUBSCRIBER ? 'met' : 'NOT met'}`],
    },
    {
      suite: 'scale',
      title: `Heap after GC, after ${churn.cycles.toLocaleString('en-US')} subscribe/complete cycles`,
      pulse: { value: mb(churn.after.heapUsedBytes), unit: 'MB', detail: `${growth >= 0 ? '+' : ''}${(growth * 100).toFixed(1)} % in ${churn.seconds.toFixed(1)} s; RSS ${mb(churn.before.rssBytes).toFixed(0)} → ${mb(churn.after.rssBytes).toFixed(0)} MB` },
      referenceName: 'heap before the churn',
      reference: { value: mb(churn.before.heapUsedBytes), unit: 'MB' },
      lowerIsBetter: true,
      notes: [
        `a tenth completed as soon as sent; plus ${churn.socketCycles.toLocaleString('en-US')} sockets opened, subscribed and closed without completing`,
        `goal ≤ +${GOAL_CHURN_GROWTH * 100} %: ${growth <= GOAL_CHURN_GROWTH ? 'met' : 'NOT met'}`,
      ],
    },
  ];
}

export async function runScale(ctx: BenchContext): Promise<Row[]> {
  const { subscribers, clientProcesses, churnCycles, churnSockets, churnSocketCycles } = ctx.options.scale;
  const filesLimit = await openFilesLimit();
  const sockets = Math.min(subscribers, filesLimit === undefined ? subscribers : filesLimit - FILES_RESERVE);
  if (sockets * 2 < subscribers) throw new Error(`open-files limit ${filesLimit}: at most ${sockets * 2} subscribers`);
  if (sockets < subscribers) ctx.log(`scale: open-files limit ${filesLimit}, so ${sockets} sockets carry ${subscribers} subscriptions`);

  const pulse = await startScalePulse(ctx);
  const clients: BenchChild[] = [];
  try {
    clients.push(...(await startClients(clientProcesses)));
    const churn = await runChurn({
      url: `ws://127.0.0.1:${pulse.port}/graphql`,
      token: ctx.token,
      query: QUERY,
      cycles: churnCycles,
      sockets: churnSockets,
      socketCycles: churnSocketCycles,
      waitActive: (count) => until(() => pulse.request<number>('activeSubscriptions'), count, 30_000, 'active subscriptions'),
      memory: async () => {
        await pulse.request('gc');
        return pulseMetricsMemory(pulse.port);
      },
      log: ctx.log,
    });
    const { side: pulseSide, after } = await measurePulse(ctx, pulse, clients, sockets, subscribers);
    if (!pulseSide.warm.sample) throw new Error('no delivery to copy for the raw server');
    if (pulseSide.warm.errors) throw new Error(`${pulseSide.warm.errors} deliveries carried errors: ${pulseSide.warm.sample}`);
    const rawSide = await measureRaw(ctx, clients, sockets, subscribers, pulseSide.warm.sample);
    return rows(pulseSide, rawSide, after, churn);
  } finally {
    await Promise.all(clients.map((client) => client.stop()));
    await pulse.stop();
  }
}
