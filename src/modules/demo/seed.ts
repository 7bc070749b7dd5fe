/**
 * Seeds tenant `demo` with the demo fleet (fleet-plan.ts) through the public API, as a user
 * would: sites, devices, radio interfaces, cellular connections, desired twins, groups, alert
 * rules and two commands. The day of telemetry is published by the devices themselves once they
 * are connected (live.ts), so it goes through MQTT ingestion and the alert rules like any reading.
 */
import { DEMO_ALERT_RULES, DEMO_COMMANDS, DEMO_DEVICES, DEMO_GROUPS, DEMO_SITES, type DemoDevice } from './fleet-plan.js';
import { isPayload, type DeviceCredentials, type MutationResult, type PulseApi } from './simulator/api.js';
import { provisionFleet } from './simulator/fleet.js';

/** True when tenant `demo` has no devices and no sites: the only case the demo seeds. */
export async function demoTenantIsEmpty(api: PulseApi): Promise<boolean> {
  const data = await api.request<{ devices: { totalCount: number }; sites: { totalCount: number } }>('{ devices(first: 1) { totalCount } sites(first: 1) { totalCount } }');
  return data.devices.totalCount === 0 && data.sites.totalCount === 0;
}

function check<P>(what: string, results: ReadonlyArray<MutationResult<P>>, allowed: readonly string[] = []): P[] {
  return results.map((result) => {
    if (isPayload(result)) return result;
    if (allowed.includes(result.__typename)) return result as unknown as P;
    throw new Error(`seeding the demo fleet: ${what}: ${result.__typename}: ${result.message}`);
  });
}

/** Provisions everything but telemetry; returns the devices' credentials. */
export async function seedDemoFleet(api: PulseApi): Promise<Map<string, DeviceCredentials>> {
  check('createSite', await api.mutateMany('createSite', 'CreateSiteInput', '', DEMO_SITES), ['AlreadyExists']);
  const credentials = await provisionFleet(api, DEMO_DEVICES);

  const withConnection = DEMO_DEVICES.filter((device): device is DemoDevice & { connection: Record<string, unknown> } => device.connection !== undefined);
  check(
    'upsertDeviceConnection',
    await api.mutateMany('upsertDeviceConnection', 'UpsertDeviceConnectionInput', '', withConnection.map((device) => ({ deviceId: device.spec.deviceId, ...device.connection }))),
  );
  const withDesired = DEMO_DEVICES.filter((device) => device.desired !== undefined);
  check(
    'updateDeviceTwinDesired',
    await api.mutateMany(
      'updateDeviceTwinDesired',
      'UpdateDeviceTwinDesiredInput',
      '',
      // A fresh twin is at version 0: the write is conditional, as a careful client's would be.
      withDesired.map((device) => ({ deviceId: device.spec.deviceId, expectedVersion: 0, mode: 'MERGE', desired: device.desired })),
    ),
  );

  const groupIds = new Map<string, string>();
  for (const group of DEMO_GROUPS.static) {
    const { group: created } = await api.mutate<{ group: { groupId: string } }>('createDeviceGroup', 'CreateDeviceGroupInput', '... on CreateDeviceGroupPayload { group { groupId } }', {
      name: group.name,
      description: group.description,
    });
    groupIds.set(group.name, created.groupId);
    await api.mutate('addDevicesToGroup', 'GroupMembersInput', '', { groupId: created.groupId, deviceIds: group.members });
  }
  check('createDynamicDeviceGroup', await api.mutateMany('createDynamicDeviceGroup', 'CreateDynamicDeviceGroupInput', '', DEMO_GROUPS.dynamic));
  check(
    'createAlertRule',
    await api.mutateMany(
      'createAlertRule',
      'CreateAlertRuleInput',
      '',
      DEMO_ALERT_RULES.map(({ group, ...rule }) => ({ ...rule, ...(group && { groupId: groupIds.get(group) }) })),
    ),
  );
  // Held by the server until each device is ONLINE, then sent: one is executed, one refused.
  check('sendCommand', await api.mutateMany('sendCommand', 'SendCommandInput', '', DEMO_COMMANDS));
  return credentials;
}

/** A device's past day of readings, one every ten minutes, as one telemetry batch. */
export function telemetryHistory(device: DemoDevice, now = Date.now()): Array<{ ts: string; metrics: Record<string, number> }> {
  const reading = device.reading;
  if (!reading) return [];
  const step = 10 * 60_000;
  return Array.from({ length: 144 }, (_, index) => {
    const at = now - (144 - index) * step;
    return { ts: new Date(at).toISOString(), metrics: reading({ deviceId: device.spec.deviceId, uptimeSeconds: Math.round((at - now + 86_400_000) / 1000) }, at) };
  });
}
