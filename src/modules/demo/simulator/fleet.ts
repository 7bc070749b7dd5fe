/**
 * A fleet of simulated devices: provisioned through the API (devices, and the radio interfaces
 * that let access points' station lists resolve to CPE devices), then connected over MQTT, each
 * with its own credentials, a bounded number at a time.
 */
import { createHash } from 'node:crypto';
import { isPayload, type DeviceCredentials, type DeviceSpec, type PulseApi } from './api.js';
import { SimulatedDevice, type DeviceBehaviour, type SimulatorStats } from './device.js';

export interface PlannedDevice {
  spec: DeviceSpec;
  behaviour: DeviceBehaviour;
  /** Interfaces to register (a CPE's radio, whose MAC its access point reports). */
  interfaces?: Array<{ name: string; macAddress: string; kind: 'WIFI' | 'ETHERNET' | 'CELLULAR' }>;
}

/**
 * A stable, locally administered unicast MAC for a device's interface (bit 1 of the first octet
 * set, bit 0 clear), so a simulated CPE keeps its MAC across runs.
 */
export function simulatedMac(tenantId: string, deviceId: string, interfaceName: string): string {
  const bytes = createHash('sha1').update(`${tenantId}/${deviceId}/${interfaceName}`).digest().subarray(0, 6);
  bytes[0] = (bytes[0]! & 0xfc) | 0x02;
  return [...bytes].map((byte) => byte.toString(16).padStart(2, '0')).join(':');
}

/**
 * Registers (or, when they exist, re-credentials) every planned device and registers its
 * interfaces; an interface that already exists is kept. Returns each device's credentials.
 */
export async function provisionFleet(api: PulseApi, plan: readonly PlannedDevice[]): Promise<Map<string, DeviceCredentials>> {
  const credentials = await api.ensureDevices(plan.map((device) => device.spec));
  const interfaces = plan.flatMap((device) => (device.interfaces ?? []).map((entry) => ({ deviceId: device.spec.deviceId, ...entry })));
  const results = await api.mutateMany('registerDeviceInterface', 'RegisterDeviceInterfaceInput', '', interfaces);
  results.forEach((result, index) => {
    if (!isPayload(result) && result.__typename !== 'AlreadyExists') {
      const { deviceId, name } = interfaces[index]!;
      throw new Error(`registerDeviceInterface ${deviceId}/${name}: ${result.__typename}: ${result.message}`);
    }
  });
  return credentials;
}

export interface RunningFleet {
  devices: SimulatedDevice[];
  stats: SimulatorStats;
  /** Every device leaves cleanly (status offline, DISCONNECT). */
  stop(): Promise<void>;
}

/**
 * Connects every planned device that has credentials, `concurrency` (default 8) CONNECTs at a
 * time: the embedded broker checks a few passwords at once and refuses logins beyond its short
 * queue (SERVER_UNAVAILABLE), so a burst would only turn into retries. A device whose first
 * CONNECT is refused counts as an error and keeps retrying in the background.
 */
export async function connectFleet(options: {
  mqttUrl: string;
  tenantId: string;
  plan: readonly PlannedDevice[];
  credentials: ReadonlyMap<string, DeviceCredentials>;
  stats: SimulatorStats;
  concurrency?: number;
  /** Aborted (Ctrl-C while connecting): no further device starts; those started are returned. */
  signal?: AbortSignal;
}): Promise<RunningFleet> {
  const devices = options.plan.flatMap((planned) => {
    const credentials = options.credentials.get(planned.spec.deviceId);
    if (!credentials) return [];
    return [
      new SimulatedDevice({
        mqttUrl: options.mqttUrl,
        tenantId: options.tenantId,
        deviceId: planned.spec.deviceId,
        credentials,
        behaviour: planned.behaviour,
        stats: options.stats,
      }),
    ];
  });
  const queue = [...devices];
  const worker = async () => {
    for (let device = queue.shift(); device && !options.signal?.aborted; device = queue.shift()) {
      // A refusal is counted by the device itself, which keeps retrying.
      await device.start().catch(() => undefined);
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.concurrency ?? 8, devices.length) }, worker));
  return {
    devices,
    stats: options.stats,
    async stop() {
      await Promise.all(devices.map((device) => device.stop()));
    },
  };
}
