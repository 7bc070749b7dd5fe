/**
 * `npm run simulate -- --tenant acme --devices 200 [--aps 5] [--rate 20]`: registers (or reuses)
 * devices through the API, connects each over MQTT with its own credentials and plays the device
 * protocol until Ctrl-C (or `--duration`), with a progress line. See docs/device-protocol.md.
 */
import { parseArgs } from 'node:util';
import { mintToken } from '../auth/jwt.js';
import { DEVELOPMENT_JWT_SECRET } from '../config.js';
import { PulseApi } from '../modules/demo/simulator/api.js';
import { newStats, type SimulatorStats } from '../modules/demo/simulator/device.js';
import { connectFleet, provisionFleet, type RunningFleet } from '../modules/demo/simulator/fleet.js';
import { simulationPlan } from '../modules/demo/simulator/plan.js';

const USAGE = `usage: npm run simulate -- [options]

  --tenant <id>        tenant of the devices (default: demo)
  --devices <n>        field devices to simulate (default: 10)
  --aps <n>            access points reporting those devices as their stations (default: 0)
  --rate <n>           telemetry readings per second across the fleet (default: devices / 10)
  --heartbeat <s>      seconds between heartbeats (default: 30)
  --prefix <text>      device ID prefix (default: sim-)
  --url <url>          GraphQL endpoint (default: http://localhost:$PORT/graphql, PORT 4000)
  --mqtt <url>         broker (default: $MQTT_URL, else mqtt://localhost:$MQTT_PORT, 1883)
  --token <jwt>        API token (default: minted for --tenant with $JWT_SECRET or the development secret)
  --duration <s>       stop after this long (default: run until Ctrl-C)
`;

function fail(message: string): never {
  process.stderr.write(`${message}\n\n${USAGE}`);
  process.exit(2);
}

const { values } = (() => {
  try {
    return parseArgs({
      options: {
        tenant: { type: 'string', default: 'demo' },
        devices: { type: 'string', default: '10' },
        aps: { type: 'string', default: '0' },
        rate: { type: 'string' },
        heartbeat: { type: 'string', default: '30' },
        prefix: { type: 'string', default: 'sim-' },
        url: { type: 'string' },
        mqtt: { type: 'string' },
        token: { type: 'string' },
        duration: { type: 'string' },
        help: { type: 'boolean', default: false },
      },
    });
  } catch (error) {
    return fail((error as Error).message);
  }
})();
if (values.help) {
  process.stdout.write(USAGE);
  process.exit(0);
}

const count = (name: string, raw: string | undefined, min: number, max: number): number => {
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min || value > max) fail(`--${name} must be a number from ${min} to ${max}, got "${raw}"`);
  return value;
};
const devices = Math.round(count('devices', values.devices, 0, 100_000));
const aps = Math.round(count('aps', values.aps, 0, 1_000));
const options = {
  tenantId: values.tenant,
  prefix: values.prefix,
  devices,
  aps,
  telemetryRate: values.rate === undefined ? devices / 10 : count('rate', values.rate, 0, 100_000),
  heartbeatSeconds: count('heartbeat', values.heartbeat, 1, 86_400),
};
if (!/^[A-Za-z0-9._:-]{0,40}$/.test(options.prefix)) fail('--prefix: letters, digits and . _ : - only');
const duration = values.duration === undefined ? undefined : count('duration', values.duration, 1, 31_536_000);
const url = values.url ?? `http://localhost:${process.env['PORT'] || 4000}/graphql`;
const mqttUrl = values.mqtt ?? (process.env['MQTT_URL'] || `mqtt://localhost:${process.env['MQTT_PORT'] || 1883}`);
const token =
  values.token ??
  (await mintToken(process.env['JWT_SECRET'] || DEVELOPMENT_JWT_SECRET, { tenantId: options.tenantId, role: 'customer', subject: 'simulator' }, '12h'));

const say = (line: string) => process.stdout.write(`${line}\n`);

// Installed before the first line is printed, so no Ctrl-C finds the process without them. While
// devices are still connecting, Ctrl-C stops the rest from starting, then disconnects those that
// did; a second Ctrl-C exits at once.
const connecting = new AbortController();
/** Filled in as the run gets there. */
const run: { fleet?: Promise<RunningFleet>; stopProgress?: () => void; summary?: () => string } = {};
let stopping = false;
async function stop(reason: string): Promise<void> {
  if (stopping) process.exit(130);
  stopping = true;
  connecting.abort();
  run.stopProgress?.();
  const fleet = await run.fleet;
  if (fleet) {
    say(`${reason}: disconnecting ${fleet.stats.connected} devices …`);
    await fleet.stop();
  }
  say(run.summary?.() ?? `${reason}: nothing was connected yet.`);
  process.exit(0);
}
process.on('SIGINT', () => void stop('Interrupted'));
process.on('SIGTERM', () => void stop('Terminated'));

const plan = simulationPlan(options);
say(`Provisioning ${plan.length} devices of tenant "${options.tenantId}" through ${url} …`);
let credentials: Awaited<ReturnType<typeof provisionFleet>>;
try {
  credentials = await provisionFleet(new PulseApi(url, token), plan);
} catch (error) {
  process.stderr.write(`Provisioning failed: ${(error as Error).message}\n`);
  process.exit(1);
}
say(`Connecting them to ${mqttUrl}, each with its own credentials …`);
const stats = newStats();
const startedAt = Date.now();
let lastSent = 0;
let lastAt = Date.now();
const progress = (stats: SimulatorStats): string => {
  const now = Date.now();
  const rate = ((stats.sent - lastSent) * 1000) / Math.max(1, now - lastAt);
  lastSent = stats.sent;
  lastAt = now;
  const error = stats.errors > 0 && stats.lastError ? ` (last: ${stats.lastError.slice(0, 80)})` : '';
  return `connected ${stats.connected}/${plan.length} · sent ${stats.sent} (${rate.toFixed(1)}/s) · received ${stats.received} · acks ${stats.acked} · errors ${stats.errors}${error}`;
};
const tty = Boolean(process.stdout.isTTY);
// From the first CONNECT on: connecting a large fleet takes a while, and shows its progress too.
const ticker = setInterval(
  () => (tty ? process.stdout.write(`\r\u001b[2K${progress(stats)}`) : say(progress(stats))),
  tty ? 1_000 : 10_000,
);

run.stopProgress = () => {
  clearInterval(ticker);
  if (tty) process.stdout.write('\n');
};
run.summary = () => `Done after ${Math.round((Date.now() - startedAt) / 1000)} s: sent ${stats.sent}, received ${stats.received}, acks ${stats.acked}, errors ${stats.errors}.`;
run.fleet = connectFleet({ mqttUrl, tenantId: options.tenantId, plan, credentials, stats, signal: connecting.signal });
await run.fleet;
if (!stopping) {
  say(tty ? 'Running; Ctrl-C disconnects every device cleanly.' : 'Running.');
  if (duration !== undefined) setTimeout(() => void stop(`${duration} s elapsed`), duration * 1000);
}
