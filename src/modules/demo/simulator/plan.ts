/**
 * The fleet `npm run simulate` plays: `devices` field devices (sensors with a radio) and `aps`
 * access points that report them as their stations, with telemetry spread so the whole fleet
 * sends `telemetryRate` readings per second.
 */
import type { DeviceBehaviour, SimulatedDevice, SimulatedStation } from './device.js';
import { simulatedMac, type PlannedDevice } from './fleet.js';

export interface SimulationOptions {
  tenantId: string;
  /** Device IDs are `<prefix>0001`…, access points `<prefix>ap-1`…. */
  prefix: string;
  devices: number;
  aps: number;
  /** Telemetry readings per second across the fleet. */
  telemetryRate: number;
  heartbeatSeconds: number;
}

const RADIO = 'wlan0';

/** A slow daily-looking wave with noise, different for each device. */
function wave(device: SimulatedDevice, base: number, amplitude: number, periodSeconds: number, noise: number): number {
  const phase = [...device.deviceId].reduce((sum, char) => sum + char.charCodeAt(0), 0);
  const value = base + amplitude * Math.sin(Date.now() / 1000 / periodSeconds + phase) + (Math.random() - 0.5) * noise;
  return Math.round(value * 100) / 100;
}

export const sensorReading = (device: SimulatedDevice): Record<string, number> => ({
  temperature: wave(device, 21, 4, 900, 0.4),
  humidity: wave(device, 45, 10, 1_800, 2),
  rssi: Math.round(wave(device, -67, 6, 300, 4)),
  uptime: device.uptimeSeconds,
});

export function simulationPlan(options: SimulationOptions): PlannedDevice[] {
  const pad = Math.max(4, String(options.devices).length);
  const telemetrySeconds = options.telemetryRate > 0 ? Math.max(1, options.devices / options.telemetryRate) : 0;
  const sensors: PlannedDevice[] = Array.from({ length: options.devices }, (_, index) => {
    const deviceId = `${options.prefix}${String(index + 1).padStart(pad, '0')}`;
    const behaviour: DeviceBehaviour = {
      heartbeatSeconds: options.heartbeatSeconds,
      telemetrySeconds,
      telemetry: sensorReading,
      reported: { fw: { version: '1.8.2' }, model: 'SIM-S1' },
      applyDelayMs: 1_000,
      failingCommands: ['factoryReset'],
    };
    return {
      spec: { deviceId, name: `Simulated sensor ${index + 1}`, model: 'SIM-S1', tags: [{ key: 'simulated', value: 'true' }] },
      behaviour,
      ...(options.aps > 0 && { interfaces: [{ name: RADIO, macAddress: simulatedMac(options.tenantId, deviceId, RADIO), kind: 'WIFI' as const }] }),
    };
  });
  const aps: PlannedDevice[] = Array.from({ length: options.aps }, (_, apIndex) => {
    const stations: SimulatedStation[] = sensors
      .filter((_, index) => index % options.aps === apIndex)
      .map((sensor) => ({ mac: sensor.interfaces![0]!.macAddress, signalDbm: -58 - Math.random() * 12, snrDb: 32 + Math.random() * 8, drift: 1.5 }));
    return {
      spec: { deviceId: `${options.prefix}ap-${apIndex + 1}`, name: `Simulated access point ${apIndex + 1}`, model: 'SIM-AP', tags: [{ key: 'simulated', value: 'true' }, { key: 'role', value: 'ap' }] },
      behaviour: {
        heartbeatSeconds: options.heartbeatSeconds,
        telemetrySeconds: 0,
        reported: { fw: { version: '3.1.0' }, model: 'SIM-AP' },
        applyDelayMs: 1_000,
        radio: { interface: RADIO, pollSeconds: 10, stations },
      },
    };
  });
  return [...aps, ...sensors];
}
