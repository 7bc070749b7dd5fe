/** Knobs of `npm run bench`, from the environment; the defaults keep a full run under ~3 minutes. */

function int(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`${name} must be a positive integer, got ${raw}`);
  return value;
}

export const SUITES = ['reads', 'writes', 'fanout', 'mqtt', 'commands', 'telemetry', 'links', 'login-flood', 'groups', 'scale', 'footprint'] as const;
export type Suite = (typeof SUITES)[number];

export interface BenchOptions {
  adminUrl: string;
  devices: number;
  suites: Suite[];
  reads: { connections: number; seconds: number; warmupSeconds: number; pageSize: number };
  writes: { concurrency: number; seconds: number; warmupSeconds: number };
  fanout: { subscribers: number; events: number; refetchEvents: number; burst: number };
  mqtt: { url: string | undefined; devices: number; messages: number; timeoutSeconds: number };
  commands: { devices: number; count: number; concurrency: number; timeoutSeconds: number };
  telemetry: { devices: number; messages: number; metrics: number; historySamples: number; historyRuns: number; timeoutSeconds: number };
  scale: {
    /** graphql-ws subscriptions on one Pulse; sockets are capped by the open-files limit, the rest ride as second subscriptions. */
    subscribers: number;
    clientProcesses: number;
    churnCycles: number;
    churnSockets: number;
    churnSocketCycles: number;
    timeoutSeconds: number;
  };
  footprint: { runs: number; idleSeconds: number };
  poolSize: number;
  jsonOut: string | undefined;
}

export function loadOptions(argv: string[]): BenchOptions {
  const only = process.env['BENCH_ONLY'];
  const suites = only ? only.split(',').map((s) => s.trim()) : [...SUITES];
  for (const suite of suites) {
    if (!(SUITES as readonly string[]).includes(suite)) throw new Error(`BENCH_ONLY: unknown suite ${suite} (${SUITES.join(', ')})`);
  }
  const jsonIndex = argv.indexOf('--json');
  return {
    adminUrl: process.env['BENCH_PG_ADMIN_URL'] ?? process.env['TEST_PG_ADMIN_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres',
    devices: int('BENCH_DEVICES', 2_000),
    suites: suites as Suite[],
    reads: {
      connections: int('BENCH_READ_CONNECTIONS', 32),
      seconds: int('BENCH_READ_SECONDS', 10),
      warmupSeconds: int('BENCH_WARMUP_SECONDS', 2),
      pageSize: 50,
    },
    writes: { concurrency: int('BENCH_WRITE_CONCURRENCY', 16), seconds: int('BENCH_WRITE_SECONDS', 5), warmupSeconds: int('BENCH_WARMUP_SECONDS', 2) },
    fanout: {
      subscribers: int('BENCH_SUBSCRIBERS', 200),
      events: int('BENCH_EVENTS', 200),
      refetchEvents: int('BENCH_REFETCH_EVENTS', 10),
      burst: int('BENCH_EVENT_BURST', 10),
    },
    mqtt: {
      url: process.env['BENCH_MQTT_URL'] || undefined,
      devices: int('BENCH_MQTT_DEVICES', 20),
      // 10,000 lasted ~0.2 s a side and moved ±15 % run to run; 50,000 is ~1 s a side.
      messages: int('BENCH_MQTT_MESSAGES', 50_000),
      timeoutSeconds: int('BENCH_MQTT_TIMEOUT_SECONDS', 45),
    },
    commands: {
      devices: int('BENCH_COMMAND_DEVICES', 20),
      count: int('BENCH_COMMANDS', 2_000),
      concurrency: int('BENCH_COMMAND_CONCURRENCY', 16),
      timeoutSeconds: int('BENCH_COMMAND_TIMEOUT_SECONDS', 60),
    },
    telemetry: {
      devices: int('BENCH_TELEMETRY_DEVICES', 20),
      messages: int('BENCH_TELEMETRY_MESSAGES', 5_000),
      metrics: int('BENCH_TELEMETRY_METRICS', 10),
      historySamples: int('BENCH_HISTORY_SAMPLES', 1_000_000),
      historyRuns: int('BENCH_HISTORY_RUNS', 5),
      timeoutSeconds: int('BENCH_TELEMETRY_TIMEOUT_SECONDS', 120),
    },
    scale: {
      subscribers: int('BENCH_SCALE_SUBSCRIBERS', 20_000),
      clientProcesses: int('BENCH_SCALE_CLIENTS', 4),
      churnCycles: int('BENCH_SCALE_CHURN_CYCLES', 10_000),
      churnSockets: int('BENCH_SCALE_CHURN_SOCKETS', 10),
      churnSocketCycles: int('BENCH_SCALE_CHURN_SOCKET_CYCLES', 1_000),
      timeoutSeconds: int('BENCH_SCALE_TIMEOUT_SECONDS', 120),
    },
    footprint: { runs: int('BENCH_FOOTPRINT_RUNS', 1), idleSeconds: int('BENCH_FOOTPRINT_IDLE_SECONDS', 10) },
    poolSize: int('BENCH_POOL_SIZE', 10),
    jsonOut: jsonIndex >= 0 ? argv[jsonIndex + 1] : undefined,
  };
}
