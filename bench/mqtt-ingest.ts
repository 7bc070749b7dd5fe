/**
 * MQTT ingest: messages/s applied by Pulse's bridge vs the limit, a plain mqtt.js subscriber on the
 * same topics counting QoS 1 messages through the same kind of broker. D devices publish K QoS 1
 * messages (one `status` online each, then `heartbeat`s) on `pulse/{tenant}/{device}/...`; the
 * figure is K over the time from the first publish until the subscriber has processed all K (for
 * Pulse: `pulse_mqtt_messages_total` has grown by K, i.e. each was applied or dropped and acked).
 *
 * Each side gets a broker of its own (same configuration), so Pulse's bridge, which stays
 * subscribed for the life of its process, never competes with the raw run.
 */
import { randomBytes } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';
import type { BenchContext } from './context.js';
import type { MqttSubscribeRequest } from './limits-server.js';
import { startBroker } from './lib/mosquitto.js';
import type { MqttCounters } from './pulse-server.js';
import type { Figure, Row } from './report.js';

const KINDS = ['status', 'heartbeat'] as const;

interface PublishPlan {
  topic: string;
  payload: string;
}

function plan(ctx: BenchContext): PublishPlan[][] {
  const { devices, messages } = ctx.options.mqtt;
  const perDevice = Math.max(2, Math.ceil(messages / devices));
  return ctx.db.deviceIds.slice(0, devices).map((deviceId, d) => {
    const prefix = `pulse/${ctx.db.tenantId}/${deviceId}/`;
    return Array.from({ length: perDevice }, (_, i) =>
      i === 0
        ? { topic: `${prefix}status`, payload: JSON.stringify({ state: 'online', sessionId: `bench-${d}`, ts: new Date().toISOString() }) }
        : { topic: `${prefix}heartbeat`, payload: JSON.stringify({ ts: Date.now(), uptimeS: 3600 + i }) },
    );
  });
}

async function connectDevices(url: string, count: number): Promise<MqttClient[]> {
  const run = randomBytes(3).toString('hex');
  return Promise.all(
    Array.from({ length: count }, (_, i) =>
      mqtt.connectAsync(url, { clientId: `bench-dev-${run}-${i}`, clean: true, protocolVersion: 4, reconnectPeriod: 0 }),
    ),
  );
}

/** Publishes every device's messages (QoS 1, each device's in order) and waits for the PUBACKs. */
async function publishAll(clients: MqttClient[], plans: PublishPlan[][]): Promise<void> {
  await Promise.all(clients.map((client, d) => Promise.all(plans[d]!.map((m) => client.publishAsync(m.topic, m.payload, { qos: 1 })))));
}

async function until(done: () => Promise<boolean>, timeoutMs: number, what: () => Promise<string>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`timed out: ${await what()}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const processed = (counters: MqttCounters) =>
  Object.entries(counters.messages)
    .filter(([key]) => KINDS.some((kind) => key.startsWith(`${kind}/`)))
    .reduce((sum, [, value]) => sum + value, 0);

function delta(after: Record<string, number>, before: Record<string, number>): Record<string, number> {
  return Object.fromEntries(
    Object.entries(after)
      .map(([key, value]) => [key, value - (before[key] ?? 0)] as const)
      .filter(([, value]) => value > 0),
  );
}

function figureOf(total: number, seconds: number, publishSeconds: number): Figure {
  return {
    value: total / seconds,
    unit: 'msg/s',
    detail: `${total} QoS 1 messages processed in ${(seconds * 1000).toFixed(0)} ms (publishers got every PUBACK after ${(publishSeconds * 1000).toFixed(0)} ms)`,
  };
}

export async function runMqttIngest(ctx: BenchContext): Promise<Row[]> {
  const { devices, timeoutSeconds } = ctx.options.mqtt;
  const plans = plan(ctx);
  const total = plans.reduce((sum, p) => sum + p.length, 0);
  const timeoutMs = timeoutSeconds * 1000;
  const notes = [
    `${devices} device connections publish ${total} QoS 1 messages (1 status + ${plans[0]!.length - 1} heartbeats each) as fast as PUBACKs allow`,
  ];

  // Pulse: its bridge is subscribed to ctx.brokerUrl since start-up.
  ctx.log(`MQTT ingest: pulse bridge, ${total} messages…`);
  const before = await ctx.pulse.request<MqttCounters>('mqttCounters');
  const pulseClients = await connectDevices(ctx.brokerUrl, devices);
  let pulseSeconds: number;
  let pulsePublish: number;
  let after: MqttCounters;
  try {
    const started = performance.now();
    const published = publishAll(pulseClients, plans).then(() => (performance.now() - started) / 1000);
    let latest = before;
    await until(
      async () => {
        latest = await ctx.pulse.request<MqttCounters>('mqttCounters');
        return processed(latest) - processed(before) >= total;
      },
      timeoutMs,
      async () => `pulse processed ${processed(latest) - processed(before)} of ${total}`,
    );
    pulseSeconds = (performance.now() - started) / 1000;
    pulsePublish = await published;
    await ctx.pulse.request('bridgeIdle');
    after = await ctx.pulse.request<MqttCounters>('mqttCounters');
  } finally {
    await Promise.all(pulseClients.map((client) => client.endAsync()));
  }
  const outcomes = delta(after.messages, before.messages);
  const rejected = delta(after.rejected, before.rejected);
  const noHandler = Object.entries(rejected)
    .filter(([key]) => key.endsWith('/NO_HANDLER'))
    .reduce((sum, [, value]) => sum + value, 0);
  notes.push(`pulse outcomes: ${JSON.stringify(outcomes)}${Object.keys(rejected).length ? `, rejected: ${JSON.stringify(rejected)}` : ''}`);
  if (noHandler >= total) {
    notes.push('NO_HANDLER: the status/heartbeat handlers are not there yet (issue 4); this measures topic parse + PUBACK only, no decode, no database');
  } else if (noHandler > 0) {
    notes.push(`${noHandler} messages had no handler (NO_HANDLER)`);
  }

  // The limit: a fresh broker of the same configuration and one plain subscriber.
  const broker = ctx.options.mqtt.url ? { url: ctx.brokerUrl, stop: async () => undefined } : await startBroker(undefined);
  if (ctx.options.mqtt.url) notes.push('external broker: Pulse’s bridge was subscribed during the raw run too');
  ctx.log(`MQTT ingest: raw mqtt.js subscriber, ${total} messages…`);
  let rawSeconds: number;
  let rawPublish: number;
  try {
    await ctx.limits.request('mqttSubscribe', {
      url: broker.url,
      filters: KINDS.map((kind) => `pulse/+/+/${kind}`),
      clientId: `bench-raw-${randomBytes(3).toString('hex')}`,
    } satisfies MqttSubscribeRequest);
    const rawClients = await connectDevices(broker.url, devices);
    try {
      const started = performance.now();
      const published = publishAll(rawClients, plans).then(() => (performance.now() - started) / 1000);
      let received = 0;
      await until(
        async () => (received = await ctx.limits.request<number>('mqttReceived')) >= total,
        timeoutMs,
        async () => `raw subscriber got ${received} of ${total}`,
      );
      rawSeconds = (performance.now() - started) / 1000;
      rawPublish = await published;
    } finally {
      await Promise.all(rawClients.map((client) => client.endAsync()));
      await ctx.limits.request('mqttStop');
    }
  } finally {
    await broker.stop();
  }
  notes.push(`broker: ${ctx.brokerDescription}`);
  return [
    {
      suite: 'mqtt',
      title: noHandler >= total ? 'MQTT ingest (NO_HANDLER)' : 'MQTT ingest',
      pulse: figureOf(total, pulseSeconds, pulsePublish),
      referenceName: 'raw mqtt.js subscriber',
      reference: figureOf(total, rawSeconds, rawPublish),
      notes,
    },
  ];
}
