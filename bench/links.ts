/**
 * Wireless links: station registrations processed per second by Pulse (APs × stations per poll,
 * published over MQTT, each poll discovery + state machine + events in one transaction) vs the
 * limit, the same link rows written by one raw multi-row upsert per poll (BEGIN; set_config;
 * INSERT … ON CONFLICT DO UPDATE; COMMIT as the RLS-bound app role), as many at once as Pulse's
 * bridge applies (its 4 lanes), each AP's polls in order.
 *
 * Every station resolves (its MAC is a seeded interface of another device), so both sides write
 * the same rows: one link per AP radio and station, inserted by the first poll, updated after.
 * Knobs: BENCH_LINKS_APS (20), BENCH_LINKS_STATIONS (100 per poll), BENCH_LINKS_POLLS (20 per AP).
 */
import { randomBytes } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';
import pg from 'pg';
import type { BenchContext } from './context.js';
import type { MqttCounters } from './pulse-server.js';
import type { Figure, Row } from './report.js';
import { withClient } from './setup.js';

function int(name: string, fallback: number): number {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`${name} must be a positive integer`);
  return value;
}

const KIND = 'wirelessRegistrations';

/** `02:AA:SS:SS:SS:SS`-style MACs, unique per (AP index, station index). */
function macOf(ap: number, station: number): string {
  const hex = (ap * 65_536 + station).toString(16).padStart(10, '0');
  return `02:${hex.match(/../g)!.join(':')}`;
}

interface Plan {
  aps: string[];
  /** Raw transactions at once: Pulse's bridge lanes (4) unless BENCH_LINKS_RAW_CONCURRENCY says otherwise. */
  rawConcurrency: number;
  stations: number;
  polls: number;
  timeoutMs: number;
}

/** Registers every station MAC as an interface of a non-AP device (as the owner, set-based). */
async function seedInterfaces(ctx: BenchContext, plan: Plan): Promise<void> {
  const cpes = ctx.db.deviceIds.slice(plan.aps.length);
  if (cpes.length === 0) throw new Error('BENCH_DEVICES must exceed BENCH_LINKS_APS');
  const rows = plan.aps.flatMap((_, a) => Array.from({ length: plan.stations }, (__, s) => ({ mac: macOf(a, s), device: cpes[(a * plan.stations + s) % cpes.length]! })));
  await withClient(ctx.db.ownerUrl, async (client) => {
    await client.query(
      `INSERT INTO device_interfaces (tenant_id, device_id, name, mac_address, interface_type)
       SELECT $1, u.device, 'bench-' || u.mac, u.mac, 'wifi' FROM unnest($2::text[], $3::text[]) AS u(mac, device)
       ON CONFLICT DO NOTHING`,
      [ctx.db.tenantId, rows.map((row) => row.mac), rows.map((row) => row.device)],
    );
    await client.query('ANALYZE device_interfaces');
  });
}

function stationsOf(a: number, plan: Plan, poll: number) {
  return Array.from({ length: plan.stations }, (_, s) => ({
    mac: macOf(a, s),
    signalDbm: -55 - ((s + poll) % 20),
    snrDb: 35 - ((s + poll) % 10),
    noiseDbm: -95,
    txRateMbps: 300,
    rxRateMbps: 270,
    ccq: 95,
    uptimeS: 3600 + poll * 60,
  }));
}

const processed = (counters: MqttCounters) =>
  Object.entries(counters.messages)
    .filter(([key]) => key.startsWith(`${KIND}/`))
    .reduce((sum, [, value]) => sum + value, 0);

async function until(done: () => Promise<boolean>, timeoutMs: number, what: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what()}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function figureOf(registrations: number, seconds: number, what: string): Figure {
  return { value: registrations / seconds, unit: 'stations/s', detail: `${registrations} station registrations (${what}) in ${(seconds * 1000).toFixed(0)} ms` };
}

/** Each AP publishes its polls in order (QoS 1); done when the bridge has settled all of them. */
async function runPulse(ctx: BenchContext, plan: Plan): Promise<{ seconds: number; outcomes: Record<string, number> }> {
  const run = randomBytes(3).toString('hex');
  const clients: MqttClient[] = await Promise.all(
    plan.aps.map((_, i) => mqtt.connectAsync(ctx.brokerUrl, { clientId: `bench-ap-${run}-${i}`, clean: true, protocolVersion: 4, reconnectPeriod: 0 })),
  );
  const before = await ctx.pulse.request<MqttCounters>('mqttCounters');
  const total = plan.aps.length * plan.polls;
  const baseTs = Date.now();
  try {
    const started = performance.now();
    const publishing = Promise.all(
      clients.map(async (client, a) => {
        const topic = `pulse/${ctx.db.tenantId}/${plan.aps[a]}/wireless/registrations`;
        for (let poll = 1; poll <= plan.polls; poll += 1) {
          const payload = JSON.stringify({ pollId: poll, interface: 'wlan0', ts: baseTs + poll, stations: stationsOf(a, plan, poll) });
          await client.publishAsync(topic, payload, { qos: 1 });
        }
      }),
    );
    let latest = before;
    await until(
      async () => {
        latest = await ctx.pulse.request<MqttCounters>('mqttCounters');
        return processed(latest) - processed(before) >= total;
      },
      plan.timeoutMs,
      () => `pulse processed ${processed(latest) - processed(before)} of ${total} polls`,
    );
    const seconds = (performance.now() - started) / 1000;
    await publishing;
    const outcomes = Object.fromEntries(
      Object.entries(latest.messages)
        .filter(([key]) => key.startsWith(`${KIND}/`))
        .map(([key, value]) => [key.slice(KIND.length + 1), value - (before.messages[key] ?? 0)]),
    );
    return { seconds, outcomes };
  } finally {
    await Promise.all(clients.map((client) => client.endAsync()));
  }
}

const RAW_UPSERT = `
  INSERT INTO wireless_links AS l (tenant_id, ap_device_id, ap_interface_name, cpe_mac, cpe_device_id, state, missed_polls, good_polls,
    last_poll_id, signal_dbm, snr_db, noise_dbm, tx_rate, rx_rate, ccq, uptime_s, last_seen_at)
  SELECT $1, $2, 'raw0', u.mac, u.cpe, 'active', 0, 1, $3, u.signal, u.snr, u.noise, u.tx, u.rx, u.ccq, u.uptime, now()
  FROM unnest($4::text[], $5::text[], $6::float8[], $7::float8[], $8::float8[], $9::float8[], $10::float8[], $11::float8[], $12::bigint[])
       AS u(mac, cpe, signal, snr, noise, tx, rx, ccq, uptime)
  ON CONFLICT (tenant_id, ap_device_id, ap_interface_name, cpe_mac) DO UPDATE SET
    cpe_device_id = EXCLUDED.cpe_device_id, missed_polls = 0, good_polls = l.good_polls + 1, last_poll_id = EXCLUDED.last_poll_id,
    signal_dbm = EXCLUDED.signal_dbm, snr_db = EXCLUDED.snr_db, noise_dbm = EXCLUDED.noise_dbm, tx_rate = EXCLUDED.tx_rate,
    rx_rate = EXCLUDED.rx_rate, ccq = EXCLUDED.ccq, uptime_s = EXCLUDED.uptime_s, last_seen_at = EXCLUDED.last_seen_at`;

/**
 * The limit: per poll, one transaction with one multi-row upsert of the poll's link rows, as many
 * at once as Pulse's bridge applies at once (its lanes), each AP's polls in order.
 */
async function runRaw(ctx: BenchContext, plan: Plan): Promise<number> {
  const pool = new pg.Pool({ connectionString: ctx.db.appUrl, max: ctx.options.poolSize });
  const cpes = ctx.db.deviceIds.slice(plan.aps.length);
  const pollsOf = async (a: number) => {
    const cpeOf = Array.from({ length: plan.stations }, (_, s) => cpes[(a * plan.stations + s) % cpes.length]!);
    for (let poll = 1; poll <= plan.polls; poll += 1) {
      const stations = stationsOf(a, plan, poll);
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        await client.query(`SELECT set_config('app.tenant_id', $1, true), set_config('app.role', 'iot_service', true), set_config('app.actor', 'bench@raw', true)`, [
          ctx.db.tenantId,
        ]);
        const column = <K extends keyof (typeof stations)[number]>(key: K) => stations.map((station) => station[key]);
        await client.query(RAW_UPSERT, [
          ctx.db.tenantId,
          plan.aps[a],
          poll,
          column('mac'),
          cpeOf,
          column('signalDbm'),
          column('snrDb'),
          column('noiseDbm'),
          column('txRateMbps'),
          column('rxRateMbps'),
          column('ccq'),
          column('uptimeS'),
        ]);
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      } finally {
        client.release();
      }
    }
  };
  try {
    const started = performance.now();
    await Promise.all(
      Array.from({ length: plan.rawConcurrency }, async (_, lane) => {
        for (let a = lane; a < plan.aps.length; a += plan.rawConcurrency) await pollsOf(a);
      }),
    );
    return (performance.now() - started) / 1000;
  } finally {
    await pool.end();
  }
}

export async function runLinks(ctx: BenchContext): Promise<Row[]> {
  const aps = int('BENCH_LINKS_APS', 20);
  const plan: Plan = {
    aps: ctx.db.deviceIds.slice(0, aps),
    rawConcurrency: int('BENCH_LINKS_RAW_CONCURRENCY', 4),
    stations: int('BENCH_LINKS_STATIONS', 100),
    polls: int('BENCH_LINKS_POLLS', 20),
    timeoutMs: int('BENCH_LINKS_TIMEOUT_SECONDS', 120) * 1000,
  };
  const registrations = plan.aps.length * plan.stations * plan.polls;
  ctx.log(`links: seeding ${plan.aps.length * plan.stations} station interfaces…`);
  await seedInterfaces(ctx, plan);
  ctx.log(`links: pulse, ${plan.aps.length} APs × ${plan.polls} polls × ${plan.stations} stations…`);
  const pulse = await runPulse(ctx, plan);
  ctx.log('links: raw multi-row upsert per poll…');
  const rawSeconds = await runRaw(ctx, plan);
  const links = await withClient(ctx.db.ownerUrl, async (client) => {
    const { rows } = await client.query<{ radio: string; links: number; events: number }>(
      `SELECT l.ap_interface_name AS radio, count(DISTINCT l.id)::int AS links, count(e.id)::int AS events
       FROM wireless_links l LEFT JOIN wireless_link_events e ON e.tenant_id = l.tenant_id AND e.link_id = l.id
       WHERE l.tenant_id = $1 GROUP BY 1 ORDER BY 1`,
      [ctx.db.tenantId],
    );
    return rows;
  });
  return [
    {
      suite: 'links',
      title: 'Wireless registrations',
      pulse: figureOf(registrations, pulse.seconds, 'MQTT publish → applied and acked'),
      referenceName: 'raw multi-row upsert per poll',
      reference: figureOf(registrations, rawSeconds, 'one upsert statement per poll, no events'),
      notes: [
        `${plan.aps.length} APs × ${plan.polls} polls × ${plan.stations} stations, every station resolving to a device; QoS 1, each AP's polls in order; raw: ${plan.rawConcurrency} transactions at once (Pulse's bridge lanes)`,
        `pulse outcomes: ${JSON.stringify(pulse.outcomes)}; rows: ${links.map((row) => `${row.radio}: ${row.links} links, ${row.events} events`).join('; ')}`,
        'pulse per poll: presence touch, poll cursor, links read (locked, MACs resolved), links + events write, registrations write, in the bridge batch transaction',
      ],
    },
  ];
}
