/**
 * The demo fleet of tenant `demo`: three sites, gateways on cellular connections with twins,
 * cold-store and office sensors, two access points with CPE links (one of them weak, one station
 * nobody registered), groups, alert rules and a day of telemetry. Data only: seed.ts provisions
 * it through the API, live.ts keeps part of it moving.
 */
import type { DeviceBehaviour, SimulatedDevice } from './simulator/device.js';
import { simulatedMac, type PlannedDevice } from './simulator/fleet.js';

export const DEMO_TENANT = 'demo';

export const DEMO_SITES = [
  { siteId: 'hq', name: 'Headquarters Berlin', address: 'Alexanderplatz 1, 10178 Berlin', latitude: 52.5219, longitude: 13.4132 },
  { siteId: 'cold-store', name: 'Cold store Hamburg', address: 'Am Sandtorkai 50, 20457 Hamburg', latitude: 53.5436, longitude: 9.9893 },
  { siteId: 'tower-west', name: 'Radio tower West', address: 'Potsdam-Golm', latitude: 52.4089, longitude: 12.9717 },
];

/** What each kind of device measures; `at` lets the seed compute a past day of the same curve. */
export type Reading = (device: { deviceId: string; uptimeSeconds: number }, at: number) => Record<string, number>;

/** A slow wave around `base` (one period in about 6 hours), with noise; each device has its own phase. */
const atTime = (deviceId: string, at: number, base: number, amplitude: number, noise: number, decimals = 1) => {
  const phase = [...deviceId].reduce((sum, char) => sum + char.charCodeAt(0), 0);
  return Number((base + amplitude * Math.sin(at / 3_600_000 + phase) + (Math.random() - 0.5) * noise).toFixed(decimals));
};

const coldSensor = (base: number): Reading => (device, at) => ({
  temperature: atTime(device.deviceId, at, base, 0.8, 0.3),
  humidity: atTime(device.deviceId, at, 82, 4, 1, 0),
  battery: Number((97 - (at % 86_400_000) / 86_400_000).toFixed(2)),
});
const officeSensor: Reading = (device, at) => ({
  temperature: atTime(device.deviceId, at, 21.5, 1.5, 0.3),
  co2: atTime(device.deviceId, at, 650, 200, 40, 0),
});
const gatewayReading = (rssi: number): Reading => (device, at) => ({
  rssi: atTime(device.deviceId, at, rssi, 3, 2, 0),
  cpu: atTime(device.deviceId, at, 18, 8, 6, 0),
  uptime: device.uptimeSeconds,
});

/** A demo device: its plan, what it measures, how it connects, its twin and its connection. */
export interface DemoDevice extends PlannedDevice {
  reading?: Reading;
  /** Never connects (a spare on the shelf): OFFLINE, its twin STALE. */
  offline?: boolean;
  desired?: Record<string, unknown>;
  connection?: Record<string, unknown>;
}

const behaviour = (overrides: Partial<DeviceBehaviour>): DeviceBehaviour => ({ heartbeatSeconds: 30, telemetrySeconds: 0, applyDelayMs: 3_000, ...overrides });
const live = (reading: Reading, seconds: number) => ({
  telemetrySeconds: seconds,
  telemetry: (device: SimulatedDevice) => reading(device, Date.now()),
});

const gatewayDesired = { config: { network: { apn: 'iot.1nce.net' }, telemetry: { intervalSeconds: 60 } }, fw: { version: '2.4.1' } };
const cellular = (iccidSuffix: string, ip: string, carrierName = '1NCE', dataLimitMb = 500) => ({
  connectionType: 'CELLULAR',
  carrierName,
  simIccid: `89882280666023067${iccidSuffix}`,
  simStatus: 'ACTIVE',
  apn: carrierName === '1NCE' ? 'iot.1nce.net' : 'internet.m2mportal.de',
  planName: carrierName === '1NCE' ? '1NCE Lifetime Flex' : 'M2M 1 GB',
  dataLimitMb,
  billingCycleStart: 1,
  ipAddress: ip,
  networkStatus: 'CONNECTED',
});

function gateway(deviceId: string, name: string, siteId: string, options: { fw: string; rssi: number; connection: Record<string, unknown>; env?: string; offline?: boolean; applyDelayMs?: number }): DemoDevice {
  const reading = gatewayReading(options.rssi);
  return {
    spec: { deviceId, name, siteId, model: 'PG-200', firmwareVersion: options.fw, tags: [{ key: 'env', value: options.env ?? 'prod' }, { key: 'role', value: 'gateway' }] },
    behaviour: behaviour({ ...live(reading, 20), reported: { fw: { version: options.fw }, network: { apn: 'iot.1nce.net' } }, applyDelayMs: options.applyDelayMs ?? 4_000, failingCommands: ['factoryReset'] }),
    reading,
    desired: gatewayDesired,
    connection: options.connection,
    ...(options.offline && { offline: true }),
  };
}

function sensor(deviceId: string, name: string, siteId: string, reading: Reading, tags: Array<{ key: string; value: string }>): DemoDevice {
  return {
    spec: { deviceId, name, siteId, model: 'TS-10', firmwareVersion: '1.8.2', tags: [{ key: 'env', value: 'prod' }, ...tags] },
    behaviour: behaviour({ ...live(reading, 15), reported: { fw: { version: '1.8.2' } }, failingCommands: ['firmware.update'] }),
    reading,
    desired: { config: { sampleSeconds: 15, alarm: { maxTemperature: 8 } } },
  };
}

const RADIO = 'wlan0';
const cpeIds = ['cpe-farm-01', 'cpe-farm-02', 'cpe-farm-03', 'cpe-farm-04', 'cpe-farm-05'];
const cpeMac = (deviceId: string) => simulatedMac(DEMO_TENANT, deviceId, RADIO);

function accessPoint(deviceId: string, name: string, stations: Array<{ cpe?: string; mac?: string; signalDbm: number; snrDb: number; drift: number }>): DemoDevice {
  return {
    spec: { deviceId, name, siteId: 'tower-west', model: 'AP-5AC', firmwareVersion: '3.1.0', tags: [{ key: 'env', value: 'prod' }, { key: 'role', value: 'ap' }] },
    behaviour: behaviour({
      reported: { fw: { version: '3.1.0' } },
      radio: { interface: RADIO, pollSeconds: 10, stations: stations.map(({ cpe, mac, ...signal }) => ({ mac: mac ?? cpeMac(cpe!), ...signal })) },
    }),
    desired: { config: { radio: { channel: 36, widthMhz: 40 } } },
    connection: cellular(deviceId === 'ap-west-01' ? '31' : '32', deviceId === 'ap-west-01' ? '10.64.0.31' : '10.64.0.32'),
  };
}

export const DEMO_DEVICES: DemoDevice[] = [
  gateway('gw-hq-01', 'HQ gateway 1', 'hq', { fw: '2.4.1', rssi: -71, connection: cellular('01', '10.64.0.11') }),
  // Reports an older firmware at first: its twin shows the update pending, then converging.
  gateway('gw-hq-02', 'HQ gateway 2', 'hq', { fw: '2.3.0', rssi: -77, connection: cellular('02', '10.64.0.12'), applyDelayMs: 12_000 }),
  gateway('gw-cold-01', 'Cold store gateway', 'cold-store', { fw: '2.4.1', rssi: -97, connection: cellular('03', '10.200.4.7', 'Telekom', 1024) }),
  gateway('gw-spare-01', 'Spare gateway (on the shelf)', 'hq', { fw: '2.2.0', rssi: -80, connection: { ...cellular('04', '10.64.0.14'), simStatus: 'READY', networkStatus: 'DISCONNECTED' }, env: 'staging', offline: true }),
  sensor('sensor-cold-01', 'Cold room 1', 'cold-store', coldSensor(3.2), [{ key: 'room', value: 'cold-1' }]),
  sensor('sensor-cold-02', 'Cold room 2', 'cold-store', coldSensor(4.1), [{ key: 'room', value: 'cold-2' }]),
  // A door left open: it runs warm, above the "Cold chain too warm" rule.
  sensor('sensor-cold-03', 'Cold room 3 (door open)', 'cold-store', coldSensor(9.4), [{ key: 'room', value: 'cold-3' }]),
  // A flaky radio: drops off and comes back (live.ts).
  sensor('sensor-cold-04', 'Loading dock', 'cold-store', coldSensor(6.5), [{ key: 'room', value: 'dock' }]),
  sensor('sensor-office-01', 'Office 3rd floor', 'hq', officeSensor, [{ key: 'room', value: 'office-3' }]),
  sensor('sensor-office-02', 'Meeting room', 'hq', officeSensor, [{ key: 'room', value: 'meeting' }]),
  accessPoint('ap-west-01', 'Tower West sector A', [
    { cpe: 'cpe-farm-01', signalDbm: -58, snrDb: 38, drift: 1 },
    { cpe: 'cpe-farm-02', signalDbm: -63, snrDb: 33, drift: 1 },
    // Hovers around the degrade threshold (-75 dBm): its link goes DEGRADED and recovers.
    { cpe: 'cpe-farm-03', signalDbm: -73, snrDb: 19, drift: 3 },
  ]),
  accessPoint('ap-west-02', 'Tower West sector B', [
    { cpe: 'cpe-farm-04', signalDbm: -61, snrDb: 35, drift: 1 },
    { cpe: 'cpe-farm-05', signalDbm: -66, snrDb: 30, drift: 1 },
    // A station nobody registered: an unresolved registration.
    { mac: '02:00:5e:10:99:01', signalDbm: -70, snrDb: 24, drift: 1 },
  ]),
  ...cpeIds.map(
    (deviceId, index): DemoDevice => ({
      spec: { deviceId, name: `Farm ${index + 1} CPE`, model: 'CPE-5AC', firmwareVersion: '3.0.4', tags: [{ key: 'env', value: 'prod' }, { key: 'role', value: 'cpe' }] },
      behaviour: behaviour({ reported: { fw: { version: '3.0.4' } } }),
      interfaces: [{ name: RADIO, macAddress: cpeMac(deviceId), kind: 'WIFI' }],
    }),
  ),
];

/** The device that drops off and comes back, and how often. */
export const FLAKY_DEVICE = { deviceId: 'sensor-cold-04', everySeconds: 30, awaySeconds: 8 };

/** Gateways whose desired telemetry interval the demo operator keeps changing (live.ts). */
export const TWIN_ROBOT = { deviceIds: ['gw-hq-01', 'gw-cold-01', 'gw-hq-02'], everySeconds: 30 };

export const DEMO_GROUPS = {
  static: [{ name: 'Cold chain', description: 'Sensors of the cold store rooms', members: ['sensor-cold-01', 'sensor-cold-02', 'sensor-cold-03', 'sensor-cold-04'] }],
  dynamic: [
    { name: 'Production gateways', description: 'Gateways tagged env=prod', queryFilter: { tags: [{ key: 'env', value: 'prod' }], deviceIdPrefix: 'gw-' } },
    { name: 'Needs attention', description: 'Devices that are not ONLINE', queryFilter: { status: ['STALE', 'OFFLINE'] } },
  ],
};

/** Alert rules; `group` names a static group above, resolved to its generated groupId when seeding. */
export const DEMO_ALERT_RULES = [
  { name: 'Cold chain too warm', kind: 'THRESHOLD', scope: 'GROUP', group: 'Cold chain', metric: 'temperature', condition: 'ABOVE', threshold: 8, clearThreshold: 7, severity: 'MAJOR' },
  { name: 'Weak cellular signal', kind: 'THRESHOLD', scope: 'TENANT', metric: 'rssi', condition: 'BELOW', threshold: -95, clearThreshold: -90, severity: 'MINOR' },
  { name: 'Device offline', kind: 'OFFLINE', scope: 'TENANT', forSeconds: 600, severity: 'CRITICAL' },
  { name: 'Twin not converged', kind: 'TWIN_NOT_CONVERGED', scope: 'TENANT', forSeconds: 900, severity: 'WARNING' },
];

/** Commands sent once when seeding: one the device executes, one it refuses. */
export const DEMO_COMMANDS = [
  { deviceId: 'gw-hq-01', commandType: 'reboot', params: { delaySeconds: 5 }, ttlSeconds: 3600 },
  { deviceId: 'sensor-cold-02', commandType: 'firmware.update', params: { version: '1.9.0' }, ttlSeconds: 3600 },
];
