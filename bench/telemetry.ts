/**
 * Telemetry: (1) samples persisted per second through MQTT, with latest values and alert-rule
 * evaluation on, against the limit of the same rows written by PostgreSQL `COPY` from one client
 * (psql, as the owner: COPY FROM refuses tables under row-level security); (2) a 1-day,
 * 1-minute-bucket history query over `historySamples` samples of one device and metric, through
 * GraphQL, against the same `date_bin` statement sent raw in an RLS transaction from one client.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';
import pg from 'pg';
import type { BenchContext } from './context.js';
import { graphqlClient } from './lib/graphql.js';
import type { MqttCounters } from './pulse-server.js';
import type { Figure, Row } from './report.js';
import { withClient } from './setup.js';

const DAY_MS = 86_400_000;

const telemetryProcessed = (counters: MqttCounters) =>
  Object.entries(counters.messages)
    .filter(([key]) => key.startsWith('telemetry/'))
    .reduce((sum, [, value]) => sum + value, 0);

/** Metric k of reading i: oscillates through every rule's threshold, so alerts raise and clear. */
const valueOf = (i: number, k: number) => Math.round((50 + 45 * Math.sin(i / 20 + k)) * 100) / 100;

async function until(done: () => Promise<boolean>, timeoutMs: number, what: () => Promise<string>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`timed out: ${await what()}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Three tenant-wide rules on the first metrics: every sample of them is evaluated. */
async function createRules(ctx: BenchContext): Promise<void> {
  await withClient(ctx.db.ownerUrl, (client) =>
    client.query(
      `INSERT INTO alert_rules (tenant_id, name, kind, metric, condition, threshold, clear_threshold, range_low, range_high, hysteresis, for_samples, severity)
       VALUES ($1, 'm0 high', 'threshold', 'm0', 'above', 90, 80, NULL, NULL, NULL, NULL, 'major'),
              ($1, 'm1 low', 'threshold', 'm1', 'below', 10, 15, NULL, NULL, NULL, NULL, 'minor'),
              ($1, 'm2 band', 'threshold', 'm2', 'outside', NULL, NULL, 20, 80, 5, 3, 'warning')`,
      [ctx.db.tenantId],
    ),
  );
}

async function ingestThroughMqtt(ctx: BenchContext, base: number): Promise<{ figure: Figure; samples: number; notes: string[] }> {
  const { devices, messages, metrics, timeoutSeconds } = ctx.options.telemetry;
  const perDevice = Math.ceil(messages / devices);
  const deviceIds = ctx.db.deviceIds.slice(0, devices);
  const run = randomBytes(3).toString('hex');
  const clients: MqttClient[] = await Promise.all(
    deviceIds.map((_, d) => mqtt.connectAsync(ctx.brokerUrl, { clientId: `bench-tel-${run}-${d}`, clean: true, protocolVersion: 4, reconnectPeriod: 0 })),
  );
  const total = perDevice * deviceIds.length;
  const samples = total * metrics;
  const before = await ctx.pulse.request<MqttCounters>('mqttCounters');
  let seconds: number;
  try {
    const started = performance.now();
    const published = Promise.all(
      clients.map((client, d) =>
        Promise.all(
          Array.from({ length: perDevice }, (_, i) =>
            client.publishAsync(
              `pulse/${ctx.db.tenantId}/${deviceIds[d]}/telemetry`,
              JSON.stringify({ ts: base + i * 10, metrics: Object.fromEntries(Array.from({ length: metrics }, (_, k) => [`m${k}`, valueOf(i, k)])) }),
              { qos: 1 },
            ),
          ),
        ),
      ),
    );
    let latest = before;
    await until(
      async () => {
        latest = await ctx.pulse.request<MqttCounters>('mqttCounters');
        return telemetryProcessed(latest) - telemetryProcessed(before) >= total;
      },
      timeoutSeconds * 1000,
      async () => `pulse processed ${telemetryProcessed(latest) - telemetryProcessed(before)} of ${total} telemetry messages`,
    );
    seconds = (performance.now() - started) / 1000;
    await published;
    await ctx.pulse.request('bridgeIdle');
  } finally {
    await Promise.all(clients.map((client) => client.endAsync()));
  }
  const stored = await withClient(ctx.db.ownerUrl, async (client) => {
    const counted = await client.query<{ samples: string; alerts: string; latest: string }>(
      `SELECT (SELECT count(*) FROM telemetry WHERE tenant_id = $1 AND time >= $2 AND time < $3) AS samples,
              (SELECT count(*) FROM alerts WHERE tenant_id = $1) AS alerts,
              (SELECT count(*) FROM telemetry_latest WHERE tenant_id = $1) AS latest`,
      [ctx.db.tenantId, new Date(base), new Date(base + perDevice * 10)],
    );
    return counted.rows[0]!;
  });
  if (Number(stored.samples) !== samples) throw new Error(`stored ${stored.samples} samples, expected ${samples}`);
  return {
    samples,
    figure: {
      value: samples / seconds,
      unit: 'samples/s',
      detail: `${samples} samples in ${total} QoS 1 messages (${metrics} metrics each) stored in ${(seconds * 1000).toFixed(0)} ms`,
    },
    notes: [
      `${devices} devices publish ${perDevice} messages each as fast as PUBACKs allow; ${stored.latest} latest values, 3 tenant-wide rules evaluated, ${stored.alerts} alerts raised`,
    ],
  };
}

/** The same number of rows in one COPY from psql (as the owner), times shifted so none collide. */
async function copyLimit(ctx: BenchContext, base: number, samples: number): Promise<Figure> {
  const { devices, metrics } = ctx.options.telemetry;
  const perDevice = Math.ceil(samples / metrics / devices);
  const lines: string[] = [];
  for (const deviceId of ctx.db.deviceIds.slice(0, devices)) {
    for (let i = 0; i < perDevice; i++) {
      const time = new Date(base + i * 10).toISOString();
      for (let k = 0; k < metrics; k++) lines.push(`${ctx.db.tenantId},${deviceId},m${k},${time},${valueOf(i, k)}`);
    }
  }
  const csv = `${lines.join('\n')}\n`;
  const started = performance.now();
  await new Promise<void>((resolve, reject) => {
    const psql = spawn('psql', [ctx.db.ownerUrl, '-v', 'ON_ERROR_STOP=1', '-q', '-c', 'COPY telemetry (tenant_id, device_id, metric, time, value_num) FROM STDIN WITH (FORMAT csv)'], {
      stdio: ['pipe', 'ignore', 'pipe'],
    });
    let stderr = '';
    psql.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    psql.on('error', reject);
    psql.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`psql COPY failed (${code}): ${stderr.slice(0, 300)}`))));
    psql.stdin.end(csv);
  });
  const seconds = (performance.now() - started) / 1000;
  return { value: lines.length / seconds, unit: 'samples/s', detail: `${lines.length} rows in one COPY in ${(seconds * 1000).toFixed(0)} ms (psql start-up included)` };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function latencyFigure(times: number[], what: string): Figure {
  const ms = median(times);
  return { value: 1000 / ms, unit: 'queries/s', detail: `${what}: median ${ms.toFixed(1)} ms over ${times.length} runs (min ${Math.min(...times).toFixed(1)}, max ${Math.max(...times).toFixed(1)})` };
}

async function historyQuery(ctx: BenchContext): Promise<Row> {
  const { historySamples, historyRuns } = ctx.options.telemetry;
  const deviceId = ctx.db.deviceIds[0]!;
  const day = Math.floor(Date.now() / DAY_MS) * DAY_MS - DAY_MS; // yesterday, UTC: its partition exists
  const from = new Date(day);
  const to = new Date(day + DAY_MS);
  ctx.log(`telemetry: seeding ${historySamples} samples of one metric over one day…`);
  await withClient(ctx.db.ownerUrl, async (client) => {
    await client.query(
      `INSERT INTO telemetry (tenant_id, device_id, metric, time, value_num)
       SELECT $1, $2, 'hist', $3::timestamptz + (i * $5::float8) * interval '1 millisecond', round((sin(i / 1000.0) * 100)::numeric, 2)
       FROM generate_series(0, $4::int - 1) AS i`,
      [ctx.db.tenantId, deviceId, from, historySamples, DAY_MS / historySamples],
    );
    await client.query('ANALYZE telemetry');
  });

  const gql = graphqlClient(ctx.pulse.port, ctx.token, 1);
  const query = `query($from: DateTime!, $to: DateTime!) { device(deviceId: "${deviceId}") {
    telemetryHistory(metric: "hist", from: $from, to: $to, bucket: "1 minute", aggregate: AVG) { startAt value count } } }`;
  const pulseTimes: number[] = [];
  try {
    for (let run = 0; run <= historyRuns; run++) {
      const started = performance.now();
      const result = await gql.request<{ device: { telemetryHistory: Array<{ count: number }> } }>(query, { from: from.toISOString(), to: to.toISOString() });
      const elapsed = performance.now() - started;
      const buckets = result.data?.device.telemetryHistory;
      if (!buckets) throw new Error(`history query failed: ${JSON.stringify(result.errors)}`);
      const counted = buckets.reduce((sum, bucket) => sum + bucket.count, 0);
      if (buckets.length !== 1440 || counted !== historySamples) throw new Error(`history returned ${buckets.length} buckets over ${counted} samples`);
      if (run > 0) pulseTimes.push(elapsed); // the first run warms caches and plans
    }
  } finally {
    gql.close();
  }

  const raw = new pg.Client({ connectionString: ctx.db.appUrl });
  await raw.connect();
  const rawTimes: number[] = [];
  try {
    for (let run = 0; run <= historyRuns; run++) {
      const started = performance.now();
      await raw.query('BEGIN');
      await raw.query(`SELECT set_config('app.tenant_id', $1, true), set_config('app.role', 'customer', true)`, [ctx.db.tenantId]);
      // The statement Pulse sends (src/modules/telemetry/store.ts, AVG), with its parameters.
      await raw.query(
        `SELECT device_id, date_bin(make_interval(secs => $1::float8), time, TIMESTAMPTZ '1970-01-01 00:00:00+00') AS bucket,
                avg(v)::float8 AS value, count(*)::int AS count
         FROM (SELECT t.device_id AS device_id, t.time, COALESCE(t.value_num, t.value_bool::int::float8) AS v
               FROM telemetry t
               WHERE t.tenant_id = $2 AND t.metric = $3 AND t.time >= $4::timestamptz AND t.time < $5::timestamptz
                 AND (t.value_num IS NOT NULL OR t.value_bool IS NOT NULL) AND t.device_id = ANY($6::text[])) s
         GROUP BY device_id, bucket ORDER BY device_id, bucket`,
        [60, ctx.db.tenantId, 'hist', from, to, [deviceId]],
      );
      await raw.query('COMMIT');
      if (run > 0) rawTimes.push(performance.now() - started);
    }
  } finally {
    await raw.end();
  }
  return {
    suite: 'telemetry',
    title: 'Telemetry history (1 day, 1-minute AVG)',
    pulse: latencyFigure(pulseTimes, `Device.telemetryHistory over ${historySamples} samples → 1,440 buckets`),
    referenceName: 'raw date_bin SQL (RLS tx)',
    reference: latencyFigure(rawTimes, 'the statement Pulse sends, from one pg client'),
    notes: ['one device and metric; the primary key (tenant, device, metric, time) drives a range scan of one daily partition'],
  };
}

export async function runTelemetry(ctx: BenchContext): Promise<Row[]> {
  await createRules(ctx);
  const base = Date.now() - 30 * 60_000;
  ctx.log(`telemetry: ingest through MQTT…`);
  const ingest = await ingestThroughMqtt(ctx, base);
  ctx.log(`telemetry: the same rows by COPY…`);
  const limit = await copyLimit(ctx, base - 3 * 3_600_000, ingest.samples);
  const rows: Row[] = [
    {
      suite: 'telemetry',
      title: 'Telemetry ingest (MQTT → samples)',
      pulse: ingest.figure,
      referenceName: 'PostgreSQL COPY (1 client)',
      reference: limit,
      notes: [...ingest.notes, 'COPY writes only the samples: no latest values, no rule evaluation, no MQTT, no RLS'],
    },
  ];
  rows.push(await historyQuery(ctx));
  return rows;
}
