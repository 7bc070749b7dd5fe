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
import { readdirSync, readFileSync } from 'node:fs';
import mqtt, { type MqttClient } from 'mqtt';
import type { BenchContext } from './context.js';
import type { MqttSubscribeRequest } from './limits-server.js';
import { startBroker } from './lib/mosquitto.js';
import type { MqttCounters } from './pulse-server.js';
import type { Figure, Row } from './report.js';

const KINDS = ['status', 'heartbeat'] as const;

/**
 * CPU time (user + system, ms) of the processes on one side of the comparison, read from
 * /proc: on this shared machine wall time moves with other load, CPU per message much less.
 * Linux only; elsewhere (no /proc) the note is left out.
 */
type CpuGroups = Record<string, number>;

const CLOCK_TICKS_PER_SECOND = 100;

function processCpuMs(pid: string): number | undefined {
  try {
    // Fields after the command name (which may contain spaces) start at field 3; utime and stime are 14 and 15.
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}

/** CPU by group: the consumer process, the scratch database's backends, private brokers, this process (the publishers). */
function cpuSnapshot(consumerPid: number | undefined, databaseName: string): CpuGroups | undefined {
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((entry) => /^\d+$/.test(entry));
  } catch {
    return undefined;
  }
  const groups: CpuGroups = { consumer: 0, postgres: 0, mosquitto: 0 };
  for (const pid of pids) {
    let command: string;
    try {
      command = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
    } catch {
      continue;
    }
    const group =
      Number(pid) === consumerPid
        ? 'consumer'
        : command.startsWith('postgres:') && command.includes(databaseName)
          ? 'postgres'
          : command.includes('mosquitto -c') && command.includes('pulse-bench-mqtt-')
            ? 'mosquitto'
            : undefined;
    if (group) groups[group]! += processCpuMs(pid) ?? 0;
  }
  const own = process.cpuUsage();
  groups['publishers'] = (own.user + own.system) / 1000;
  return groups;
}

/** `pulse 812 ms (81 µs/msg), postgres …` for the groups that used any CPU between two snapshots. */
function describeCpu(consumer: string, before: CpuGroups | undefined, after: CpuGroups | undefined, messages: number): string | undefined {
  if (!before || !after) return undefined;
  const parts = Object.entries(after)
    .map(([group, value]) => [group === 'consumer' ? consumer : group, value - (before[group] ?? 0)] as const)
    .filter(([, ms]) => ms > 0)
    .map(([group, ms]) => `${group} ${ms.toFixed(0)} ms (${((ms * 1000) / messages).toFixed(0)} µs/msg)`);
  return parts.join(', ');
}

interface PublishPlan {
  topic: string;
  payload: string;
}

/** Each device: one `status` online (a new session, so each logs a reconnect), then heartbeats. */
function plan(ctx: BenchContext, perDevice: number, session: string): PublishPlan[][] {
  const { devices } = ctx.options.mqtt;
  return ctx.db.deviceIds.slice(0, devices).map((deviceId, d) => {
    const prefix = `pulse/${ctx.db.tenantId}/${deviceId}/`;
    return Array.from({ length: perDevice }, (_, i) =>
      i === 0
        ? { topic: `${prefix}status`, payload: JSON.stringify({ state: 'online', sessionId: `${session}-${d}`, ts: new Date().toISOString() }) }
        : { topic: `${prefix}heartbeat`, payload: JSON.stringify({ ts: Date.now(), uptimeS: 3600 + i }) },
    );
  });
}

/**
 * Messages per device of the warm-up pass each side gets before it is measured (a fifth of the
 * measured pass): JIT, pooled connections and prepared statements are warm on both sides and in
 * the publishers, which would otherwise warm up during the first (Pulse's) measured pass only.
 */
const warmupPerDevice = (perDevice: number) => Math.max(2, Math.ceil(perDevice / 5));

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

/**
 * Polls `count` until it reaches `total`. Every poll is an IPC round trip that costs the consumer
 * CPU on a machine whose cores are all busy, so while far from the end it waits about half the
 * time the observed rate says is left (at most 20 ms), and every 5 ms near the end: the figure
 * stays within ~5 ms of the true finish on both sides, with a third of the polls.
 */
async function until(count: () => Promise<number>, total: number, timeoutMs: number, what: (latest: number) => string): Promise<void> {
  const started = performance.now();
  const deadline = Date.now() + timeoutMs;
  for (let latest = await count(); latest < total; latest = await count()) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what(latest)}`);
    const elapsed = performance.now() - started;
    const remainingMs = latest > 0 ? ((total - latest) * elapsed) / latest : 0;
    await new Promise((resolve) => setTimeout(resolve, Math.min(20, Math.max(5, remainingMs / 2))));
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
  const { devices, messages, timeoutSeconds } = ctx.options.mqtt;
  const perDevice = Math.max(2, Math.ceil(messages / devices));
  const plans = plan(ctx, perDevice, 'bench');
  const warmup = plan(ctx, warmupPerDevice(perDevice), 'bench-warmup');
  const total = plans.reduce((sum, p) => sum + p.length, 0);
  const warmupTotal = warmup.reduce((sum, p) => sum + p.length, 0);
  const timeoutMs = timeoutSeconds * 1000;
  const notes = [
    `${devices} device connections publish ${total} QoS 1 messages (1 status + ${plans[0]!.length - 1} heartbeats each) as fast as PUBACKs allow, after an unmeasured warm-up of ${warmupTotal} on each side`,
  ];

  // Pulse: its bridge is subscribed to ctx.brokerUrl since start-up.
  ctx.log(`MQTT ingest: pulse bridge, ${warmupTotal} warm-up + ${total} messages…`);
  const pulseClients = await connectDevices(ctx.brokerUrl, devices);
  let pulseSeconds: number;
  let pulsePublish: number;
  let before: MqttCounters;
  let after: MqttCounters;
  let pulseCpu: string | undefined;
  try {
    const beforeWarmup = processed(await ctx.pulse.request<MqttCounters>('mqttCounters'));
    await publishAll(pulseClients, warmup);
    await until(
      async () => processed(await ctx.pulse.request<MqttCounters>('mqttCounters')) - beforeWarmup,
      warmupTotal,
      timeoutMs,
      (latest) => `pulse processed ${latest} of ${warmupTotal} warm-up messages`,
    );
    await ctx.pulse.request('bridgeIdle');
    before = await ctx.pulse.request<MqttCounters>('mqttCounters');
    const cpuBefore = cpuSnapshot(ctx.pulse.process.pid, ctx.db.name);
    const started = performance.now();
    const published = publishAll(pulseClients, plans).then(() => (performance.now() - started) / 1000);
    await until(
      async () => processed(await ctx.pulse.request<MqttCounters>('mqttCounters')) - processed(before),
      total,
      timeoutMs,
      (latest) => `pulse processed ${latest} of ${total}`,
    );
    pulseSeconds = (performance.now() - started) / 1000;
    pulsePublish = await published;
    pulseCpu = describeCpu('pulse', cpuBefore, cpuSnapshot(ctx.pulse.process.pid, ctx.db.name), total);
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
  ctx.log(`MQTT ingest: raw mqtt.js subscriber, ${warmupTotal} warm-up + ${total} messages…`);
  let rawSeconds: number;
  let rawPublish: number;
  let rawCpu: string | undefined;
  try {
    await ctx.limits.request('mqttSubscribe', {
      url: broker.url,
      filters: KINDS.map((kind) => `pulse/+/+/${kind}`),
      clientId: `bench-raw-${randomBytes(3).toString('hex')}`,
    } satisfies MqttSubscribeRequest);
    const rawClients = await connectDevices(broker.url, devices);
    try {
      await publishAll(rawClients, warmup);
      await until(
        () => ctx.limits.request<number>('mqttReceived'),
        warmupTotal,
        timeoutMs,
        (latest) => `raw subscriber got ${latest} of ${warmupTotal} warm-up messages`,
      );
      const received = await ctx.limits.request<number>('mqttReceived');
      const cpuBefore = cpuSnapshot(ctx.limits.process.pid, ctx.db.name);
      const started = performance.now();
      const published = publishAll(rawClients, plans).then(() => (performance.now() - started) / 1000);
      await until(
        async () => (await ctx.limits.request<number>('mqttReceived')) - received,
        total,
        timeoutMs,
        (latest) => `raw subscriber got ${latest} of ${total}`,
      );
      rawSeconds = (performance.now() - started) / 1000;
      rawPublish = await published;
      rawCpu = describeCpu('subscriber', cpuBefore, cpuSnapshot(ctx.limits.process.pid, ctx.db.name), total);
    } finally {
      await Promise.all(rawClients.map((client) => client.endAsync()));
      await ctx.limits.request('mqttStop');
    }
  } finally {
    await broker.stop();
  }
  if (pulseCpu && rawCpu) notes.push(`CPU from first publish to last message processed: Pulse side: ${pulseCpu}; raw side: ${rawCpu}`);
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
