/**
 * Commands: commands/s from `sendCommand` to DELIVERED, with simulated devices that ack each
 * command the moment it arrives, against the limit of a raw mqtt.js publish → ack round trip
 * through the same kind of broker (a plain client publishing QoS 1 commands to the same devices
 * and counting their acks).
 *
 * Pulse's figure is M over the time from the first sendCommand until its
 * `pulse_command_transitions_total{status="DELIVERED"}` has grown by M: each command was stored,
 * claimed, published (PUBACK), recorded SENT, received and acked by its device, and the ack
 * applied. Each side gets a broker of its own, so Pulse's bridge never sees the raw run's acks.
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import mqtt, { type MqttClient } from 'mqtt';
import type { BenchContext } from './context.js';
import { graphqlClient } from './lib/graphql.js';
import { startBroker } from './lib/mosquitto.js';
import type { Figure, Row } from './report.js';

const SEND = /* GraphQL */ `
  mutation($input: SendCommandInput!) { sendCommand(input: $input) { __typename ... on SendCommandPayload { command { commandId } } } }`;

/** Devices that ack every command at once, QoS 1, on `<command topic>/ack`. */
async function ackingDevices(url: string, tenantId: string, deviceIds: readonly string[]): Promise<MqttClient[]> {
  const run = randomBytes(3).toString('hex');
  return Promise.all(
    deviceIds.map(async (deviceId, index) => {
      const client = await mqtt.connectAsync(url, { clientId: `bench-cmd-${run}-${index}`, clean: true, protocolVersion: 5, reconnectPeriod: 0 });
      client.on('message', (topic) => void client.publishAsync(`${topic}/ack`, '{"status":"delivered"}', { qos: 1 }).catch(() => undefined));
      await client.subscribeAsync(`pulse/${tenantId}/${deviceId}/commands/+`, { qos: 1 });
      return client;
    }),
  );
}

function metricsText(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: '/metrics' }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
        res.on('error', reject);
      })
      .on('error', reject);
  });
}

async function deliveredSoFar(port: number): Promise<number> {
  const line = (await metricsText(port)).split('\n').find((text) => text.startsWith('pulse_command_transitions_total{status="DELIVERED"}'));
  return line ? Number(line.split(' ').pop()) : 0;
}

async function until(done: () => Promise<boolean>, timeoutMs: number, what: () => Promise<string>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`timed out: ${await what()}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Runs `count` tasks with at most `concurrency` at once. */
async function pool(count: number, concurrency: number, task: (index: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) await task(next++);
    }),
  );
}

function figureOf(total: number, seconds: number, detail: string): Figure {
  return { value: total / seconds, unit: 'cmd/s', detail: `${total} commands in ${(seconds * 1000).toFixed(0)} ms; ${detail}` };
}

export async function runCommands(ctx: BenchContext): Promise<Row[]> {
  const { devices, count, concurrency, timeoutSeconds } = ctx.options.commands;
  const deviceIds = ctx.db.deviceIds.slice(0, devices);
  const tenantId = ctx.db.tenantId;
  const timeoutMs = timeoutSeconds * 1000;
  const notes = [`${devices} devices ack each command on arrival; ${count} commands, ${concurrency} sendCommand requests at a time (round-robin over the devices)`];

  ctx.log(`commands: pulse, ${count} commands…`);
  const pulseDevices = await ackingDevices(ctx.brokerUrl, tenantId, deviceIds);
  const client = graphqlClient(ctx.pulse.port, ctx.token, concurrency);
  let pulseSeconds: number;
  const latencies: number[] = [];
  try {
    // ONLINE through the device channel, as a device would announce itself.
    await Promise.all(
      pulseDevices.map((device, index) =>
        device.publishAsync(`pulse/${tenantId}/${deviceIds[index]}/status`, JSON.stringify({ state: 'online', sessionId: `bench-cmd-${index}` }), { qos: 1 }),
      ),
    );
    await ctx.pulse.request('bridgeIdle');
    const before = await deliveredSoFar(ctx.pulse.port);
    const started = performance.now();
    await pool(count, concurrency, async (index) => {
      const sentAt = performance.now();
      const result = await client.request<{ sendCommand: { __typename: string } }>(SEND, {
        input: { deviceId: deviceIds[index % deviceIds.length], commandType: 'bench.ping', params: { n: index }, ttlSeconds: 600 },
      });
      if (result.data?.sendCommand.__typename !== 'SendCommandPayload') throw new Error(`sendCommand: ${JSON.stringify(result)}`);
      latencies.push(performance.now() - sentAt);
    });
    let delivered = 0;
    await until(
      async () => (delivered = (await deliveredSoFar(ctx.pulse.port)) - before) >= count,
      timeoutMs,
      async () => `pulse delivered ${delivered} of ${count}`,
    );
    pulseSeconds = (performance.now() - started) / 1000;
  } finally {
    client.close();
    await Promise.all(pulseDevices.map((device) => device.endAsync()));
  }
  latencies.sort((x, y) => x - y);
  const percentile = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))]!.toFixed(1);
  const pulseDetail = `sendCommand p50 ${percentile(50)} ms, p99 ${percentile(99)} ms`;

  // The limit: a raw client publishes the same commands to the same devices on a fresh broker.
  const broker = ctx.options.mqtt.url ? { url: ctx.brokerUrl, stop: async () => undefined } : await startBroker(undefined);
  ctx.log(`commands: raw mqtt.js publish → ack, ${count} commands…`);
  let rawSeconds: number;
  try {
    const rawDevices = await ackingDevices(broker.url, tenantId, deviceIds);
    const server = await mqtt.connectAsync(broker.url, { clientId: `bench-cmd-raw-${randomBytes(3).toString('hex')}`, clean: true, protocolVersion: 5, reconnectPeriod: 0 });
    try {
      let acked = 0;
      const allAcked = new Promise<void>((resolve) =>
        server.on('message', () => {
          acked += 1;
          if (acked === count) resolve();
        }),
      );
      await server.subscribeAsync(`pulse/${tenantId}/+/commands/+/ack`, { qos: 1 });
      const started = performance.now();
      await pool(count, concurrency, async (index) => {
        const commandId = `raw-${index}`;
        const payload = { commandId, commandType: 'bench.ping', params: { n: index }, expiresAt: new Date(Date.now() + 600_000).toISOString() };
        await server.publishAsync(`pulse/${tenantId}/${deviceIds[index % deviceIds.length]}/commands/${commandId}`, JSON.stringify(payload), { qos: 1 });
      });
      await Promise.race([allAcked, new Promise((_resolve, reject) => setTimeout(() => reject(new Error(`raw: ${acked} of ${count} acks`)), timeoutMs).unref())]);
      rawSeconds = (performance.now() - started) / 1000;
    } finally {
      await server.endAsync();
      await Promise.all(rawDevices.map((device) => device.endAsync()));
    }
  } finally {
    await broker.stop();
  }
  notes.push('raw: one mqtt.js client publishes each command QoS 1 (as many in flight as Pulse has requests) and counts the devices’ QoS 1 acks');
  notes.push(`broker: ${ctx.brokerDescription}`);
  return [
    {
      suite: 'commands',
      title: 'Commands sendCommand → DELIVERED',
      pulse: figureOf(count, pulseSeconds, pulseDetail),
      referenceName: 'raw mqtt.js publish → ack',
      reference: figureOf(count, rawSeconds, 'PUBACKs awaited per publish'),
      notes,
    },
  ];
}
