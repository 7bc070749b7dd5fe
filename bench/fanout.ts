/**
 * Subscription fan-out: N graphql-ws subscribers on Pulse vs N plain WebSocket clients of a raw
 * `ws` server (the limit) that broadcasts messages of the same bytes. K events are published (on
 * Pulse's in-process event bus, as a committed write would); the figure is N×K delivered events
 * divided by the time from the publish request until every socket has received all K.
 *
 * Both sides use the same hand-written client on `ws` (graphql-transport-ws handshake for Pulse,
 * nothing for the raw server) so the client's cost per message, one JSON.parse, is identical.
 */
import WebSocket from 'ws';
import type { BenchContext } from './context.js';
import type { PublishRequest } from './pulse-server.js';
import type { BroadcastRequest } from './limits-server.js';
import type { Figure, Row } from './report.js';

const TIMEOUT_MS = 60_000;

interface Socket {
  ws: WebSocket;
  received: number;
  /** The raw text of the first data message, reused as the raw server's message template. */
  sample?: string;
  error?: string;
  waiter?: { target: number; resolve: () => void };
}

function track(socket: Socket, onMessage: (data: Record<string, unknown>, text: string) => boolean): void {
  socket.ws.on('message', (raw: Buffer) => {
    const text = raw.toString('utf8');
    const data = JSON.parse(text) as Record<string, unknown>;
    if (!onMessage(data, text)) return;
    socket.received++;
    socket.sample ??= text;
    if (socket.waiter && socket.received >= socket.waiter.target) {
      const { resolve } = socket.waiter;
      socket.waiter = undefined;
      resolve();
    }
  });
}

function waitAll(sockets: Socket[], target: number, timeoutMs: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let left = sockets.length;
    const timer = setTimeout(() => {
      const behind = sockets.filter((s) => s.received < target);
      const errors = sockets.map((s) => s.error).filter(Boolean);
      reject(
        new Error(
          `${behind.length} of ${sockets.length} sockets still below ${target} events after ${timeoutMs} ms` +
            (behind[0] ? ` (e.g. ${behind[0].received})` : '') +
            (errors[0] ? `; first error: ${errors[0]}` : ''),
        ),
      );
    }, timeoutMs);
    const done = () => {
      if (--left === 0) {
        clearTimeout(timer);
        resolve();
      }
    };
    for (const socket of sockets) {
      if (socket.received >= target) done();
      else socket.waiter = { target, resolve: done };
    }
  });
}

function opened(ws: WebSocket): Promise<void> {
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
}

async function closeAll(sockets: Socket[]): Promise<void> {
  await Promise.all(
    sockets.map(
      (socket) =>
        new Promise<void>((resolve) => {
          if (socket.ws.readyState === WebSocket.CLOSED) return resolve();
          socket.ws.once('close', () => resolve());
          socket.ws.close();
          setTimeout(() => {
            socket.ws.terminate();
            resolve();
          }, 2_000).unref();
        }),
    ),
  );
}

/** N graphql-ws subscribers on Pulse, each acknowledged and subscribed. */
async function pulseSubscribers(ctx: BenchContext, count: number, query: string): Promise<Socket[]> {
  const sockets: Socket[] = [];
  await Promise.all(
    Array.from({ length: count }, async () => {
      const ws = new WebSocket(`ws://127.0.0.1:${ctx.pulse.port}/graphql`, 'graphql-transport-ws');
      const socket: Socket = { ws, received: 0 };
      sockets.push(socket);
      track(socket, (message, text) => {
        switch (message['type']) {
          case 'connection_ack':
            ws.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query } }));
            return false;
          case 'ping':
            ws.send(JSON.stringify({ type: 'pong' }));
            return false;
          case 'next': {
            const payload = message['payload'] as { errors?: unknown } | undefined;
            if (payload?.errors) socket.error ??= text.slice(0, 300);
            return true;
          }
          case 'error':
            socket.error ??= text.slice(0, 300);
            return false;
          default:
            return false;
        }
      });
      ws.on('close', (code, reason) => {
        if (code !== 1000) socket.error ??= `closed ${code} ${reason.toString()}`;
      });
      await opened(ws);
      ws.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${ctx.token}` } }));
    }),
  );
  return sockets;
}

async function rawSubscribers(ctx: BenchContext, count: number): Promise<Socket[]> {
  const sockets = await Promise.all(
    Array.from({ length: count }, async () => {
      const ws = new WebSocket(`ws://127.0.0.1:${ctx.limits.port}/ws`);
      const socket: Socket = { ws, received: 0 };
      track(socket, () => true);
      await opened(ws);
      return socket;
    }),
  );
  const deadline = Date.now() + 10_000;
  while ((await ctx.limits.request<number>('sockets')) < count) {
    if (Date.now() > deadline) throw new Error('raw ws server did not see every socket');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return sockets;
}

/**
 * Publishes one warm-up event at a time until every socket has one (proves every subscription is
 * registered), then K events, timed from the publish request to the last socket's K-th event.
 */
async function measure(sockets: Socket[], publish: (count: number) => Promise<unknown>, events: number, warmUp = publish): Promise<number> {
  const warmDeadline = Date.now() + 15_000;
  while (sockets.some((s) => s.received === 0)) {
    if (Date.now() > warmDeadline) {
      const first = sockets.find((s) => s.error)?.error;
      throw new Error(`subscribers not ready: ${sockets.filter((s) => s.received === 0).length} got no warm-up event${first ? ` (${first})` : ''}`);
    }
    await warmUp(1);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await new Promise((resolve) => setTimeout(resolve, 300));
  for (const socket of sockets) socket.received = 0;
  const started = performance.now();
  const delivered = waitAll(sockets, events, TIMEOUT_MS);
  await publish(events);
  await delivered;
  return (performance.now() - started) / 1000;
}

function figureOf(subscribers: number, events: number, seconds: number, bytes: number): Figure {
  return {
    value: (subscribers * events) / seconds,
    unit: 'events/s',
    detail: `${subscribers} sockets × ${events} events delivered in ${(seconds * 1000).toFixed(0)} ms (${bytes}-byte messages)`,
  };
}

interface Variant {
  title: string;
  query: string;
  events: number;
  note: string;
}

export async function runFanout(ctx: BenchContext): Promise<Row[]> {
  const { subscribers, burst } = ctx.options.fanout;
  const subscription = ctx.schema.subscription;
  if (!subscription || !ctx.schema.field(subscription, 'deviceChanged')) throw new Error('Subscription.deviceChanged is missing');
  const deviceIds = ctx.db.deviceIds.slice(0, 50);
  const events = deviceIds.map((deviceId) => ({ tenantId: ctx.db.tenantId, deviceId, change: 'UPDATED' as const }));
  const publishPulse = (count: number) =>
    ctx.pulse.request('publish', { event: 'deviceChanged', payloads: events, count, burst } satisfies PublishRequest);
  // Warm-up events are about another device: no measured event is one a re-read already answered.
  const warmUpEvent = { tenantId: ctx.db.tenantId, deviceId: ctx.db.deviceIds[50] ?? deviceIds[0]!, change: 'UPDATED' as const };
  const warmUpPulse = (count: number) =>
    ctx.pulse.request('publish', { event: 'deviceChanged', payloads: [warmUpEvent], count, burst } satisfies PublishRequest);

  const variants: Variant[] = [
    {
      title: 'Subscription fan-out',
      query: 'subscription BenchFanout { deviceChanged { change deviceId } }',
      events: ctx.options.fanout.events,
      note: 'deviceChanged { change deviceId }: the event payload only, no database read per delivery',
    },
    {
      title: 'Fan-out + device re-fetch',
      query: 'subscription BenchFanoutDevice { deviceChanged { change deviceId device { name status } } }',
      events: ctx.options.fanout.refetchEvents,
      note: 'deviceChanged { change deviceId device { name status } }: every event re-reads its device in the subscriber scope (RLS)',
    },
  ];

  const rows: Row[] = [];
  for (const variant of variants) {
    ctx.log(`${variant.title}: pulse, ${subscribers} subscribers × ${variant.events} events…`);
    const pulseSockets = await pulseSubscribers(ctx, subscribers, variant.query);
    let pulseSeconds: number;
    let sample: string;
    try {
      pulseSeconds = await measure(pulseSockets, publishPulse, variant.events, warmUpPulse);
      const firstError = pulseSockets.find((s) => s.error)?.error;
      if (firstError) throw new Error(`subscription error: ${firstError}`);
      sample = pulseSockets[0]!.sample!;
    } finally {
      await closeAll(pulseSockets);
    }

    // The raw server sends Pulse's own messages (same bytes), one per device, prebuilt.
    const sampleDevice = (JSON.parse(sample) as { payload: { data: { deviceChanged: { deviceId: string } } } }).payload.data.deviceChanged.deviceId;
    const messages = deviceIds.map((deviceId) => sample.split(sampleDevice).join(deviceId));
    const publishRaw = (count: number) => ctx.limits.request('broadcast', { messages, count, burst } satisfies BroadcastRequest);
    ctx.log(`${variant.title}: raw ws broadcast, ${subscribers} sockets × ${variant.events} events…`);
    const rawSockets = await rawSubscribers(ctx, subscribers);
    let rawSeconds: number;
    try {
      rawSeconds = await measure(rawSockets, publishRaw, variant.events);
    } finally {
      await closeAll(rawSockets);
    }
    const bytes = Buffer.byteLength(sample);
    rows.push({
      suite: 'fanout',
      title: variant.title,
      pulse: figureOf(subscribers, variant.events, pulseSeconds, bytes),
      referenceName: 'raw ws broadcast',
      reference: figureOf(subscribers, variant.events, rawSeconds, bytes),
      notes: [variant.note, `events published ${burst} per macrotask; end to end = publish request → last socket has all K`],
    });
  }
  return rows;
}
