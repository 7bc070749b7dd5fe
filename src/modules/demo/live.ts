/**
 * The live part of the demo: every device of the fleet but the spare connects over MQTT with its
 * own credentials and plays its part (heartbeats, telemetry, twin reports that converge, command
 * acks, access point polls whose signals drift); one sensor drops off and comes back, and a demo
 * operator keeps changing a gateway's desired telemetry interval. So a query or a subscription in
 * GraphiQL shows something at once.
 */
import type { Logger } from '../../logger.js';
import { DEMO_DEVICES, DEMO_TENANT, FLAKY_DEVICE, TWIN_ROBOT } from './fleet-plan.js';
import { telemetryHistory } from './seed.js';
import { isPayload, type DeviceCredentials, type PulseApi } from './simulator/api.js';
import { newStats } from './simulator/device.js';
import { connectFleet, type RunningFleet } from './simulator/fleet.js';

export interface LiveDemo {
  fleet: RunningFleet;
  stop(): Promise<void>;
}

/** Devices that connect (the spare stays on the shelf). */
export const liveDevices = () => DEMO_DEVICES.filter((device) => !device.offline);

/**
 * New credentials for the demo's devices that still exist (passwords are shown only once, so a
 * restart rotates them); devices a user decommissioned or deleted are left alone.
 */
export async function liveCredentials(api: PulseApi): Promise<Map<string, DeviceCredentials>> {
  const devices = liveDevices();
  const results = await api.mutateMany<{ credentials: DeviceCredentials }>(
    'rotateDeviceCredentials',
    'RotateDeviceCredentialsInput',
    '... on RotateDeviceCredentialsPayload { credentials { username password topicPrefix } }',
    devices.map((device) => ({ deviceId: device.spec.deviceId })),
  );
  const credentials = new Map<string, DeviceCredentials>();
  results.forEach((result, index) => {
    if (isPayload(result)) credentials.set(devices[index]!.spec.deviceId, result.credentials);
  });
  return credentials;
}

/**
 * Connects the fleet; with `history` (the first start) each device first publishes its past day
 * of telemetry. Resolves once every device is connected and the history is stored.
 */
export async function startLiveDemo(options: { api: PulseApi; mqttUrl: string; credentials: ReadonlyMap<string, DeviceCredentials>; history: boolean; logger: Logger }): Promise<LiveDemo> {
  const { api, logger } = options;
  const plan = liveDevices();
  const fleet = await connectFleet({ mqttUrl: options.mqttUrl, tenantId: DEMO_TENANT, plan, credentials: options.credentials, stats: newStats() });
  const byId = new Map(fleet.devices.map((device) => [device.deviceId, device]));
  if (options.history) {
    await Promise.all(
      plan.map((planned) => {
        const history = telemetryHistory(planned);
        return history.length > 0 ? byId.get(planned.spec.deviceId)?.publish('telemetry', history) : undefined;
      }),
    );
  }
  const timers: NodeJS.Timeout[] = [];
  const flaky = byId.get(FLAKY_DEVICE.deviceId);
  if (flaky) timers.push(setInterval(() => flaky.dropConnection(FLAKY_DEVICE.awaySeconds), FLAKY_DEVICE.everySeconds * 1000));
  let turn = 0;
  timers.push(
    setInterval(() => {
      const deviceId = TWIN_ROBOT.deviceIds[turn % TWIN_ROBOT.deviceIds.length]!;
      turn += 1;
      changeTelemetryInterval(api, deviceId).catch((error: unknown) => logger.debug({ err: error, deviceId }, 'demo operator: desired write skipped'));
    }, TWIN_ROBOT.everySeconds * 1000),
  );
  for (const timer of timers) timer.unref();
  return {
    fleet,
    async stop() {
      for (const timer of timers) clearInterval(timer);
      await fleet.stop();
    },
  };
}

/** Reads the twin's version first and writes against it, as a careful client does. */
async function changeTelemetryInterval(api: PulseApi, deviceId: string): Promise<void> {
  const { device } = await api.request<{ device: { twin: { desiredVersion: number; desired: { config?: { telemetry?: { intervalSeconds?: number } } } } } | null }>(
    'query ($deviceId: String!) { device(deviceId: $deviceId) { twin { desiredVersion desired } } }',
    { deviceId },
  );
  if (!device) return;
  const next = device.twin.desired.config?.telemetry?.intervalSeconds === 30 ? 60 : 30;
  await api.mutate('updateDeviceTwinDesired', 'UpdateDeviceTwinDesiredInput', '', {
    deviceId,
    expectedVersion: device.twin.desiredVersion,
    mode: 'MERGE',
    desired: { config: { telemetry: { intervalSeconds: next } } },
  });
}

