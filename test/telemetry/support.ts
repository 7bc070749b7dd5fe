/**
 * What the telemetry and alerts tests share: devices registered through the API, a device client
 * publishing telemetry (QoS 1, awaited until the bridge settled it), a static group seeded in the
 * tenant's own RLS-bound transaction (until the groups module's mutations land), and GraphQL reads.
 */
import type { MqttClient } from 'mqtt';
import type { SettledMessage } from '../../src/mqtt/bridge.js';
import type { TestApp } from '../harness/app.js';
import { REGISTER_DEVICE } from '../harness/operations.js';
import { uniqueName } from '../harness/postgres.js';
import { buildTopic } from '../harness/topics.js';
import { deviceClient, publishSettled } from '../connectivity/support.js';
export { closeClients, deviceClient, keepPresence, nextSettled, publishSettled } from '../connectivity/support.js';

export async function registerDevices(app: TestApp, token: string, deviceIds: readonly string[]): Promise<void> {
  for (const deviceId of deviceIds) {
    const result = await app.gql<{ registerDevice: { __typename: string } }>(token, REGISTER_DEVICE, { input: { deviceId, name: deviceId } });
    if (result.data?.registerDevice.__typename !== 'RegisterDevicePayload') throw new Error(`registerDevice ${deviceId}: ${JSON.stringify(result)}`);
  }
}

/** A device channel for one tenant: publish telemetry of any of its devices and await the outcome. */
export interface TelemetryPublisher {
  client: MqttClient;
  send(deviceId: string, payload: unknown): Promise<SettledMessage['outcome']>;
}

export async function telemetryPublisher(app: TestApp, tenantId: string): Promise<TelemetryPublisher> {
  const client = await deviceClient({ url: app.mqttUrl });
  return {
    client,
    send: (deviceId, payload) =>
      publishSettled(app, client, buildTopic.telemetry(tenantId, deviceId), typeof payload === 'string' ? payload : JSON.stringify(payload)),
  };
}

/** A static group with these members, written in the tenant's own transaction (RLS applies). */
export async function seedStaticGroup(app: TestApp, tenantId: string, deviceIds: readonly string[]): Promise<string> {
  const groupId = uniqueName('g');
  await app.pulse.app.runner.run({ tenantId, role: 'customer', actorId: 'test' }, async (session) => {
    await session.db.deviceGroup.create({ data: { tenantId, groupId, name: groupId, groupType: 'static' } });
    await session.db.deviceGroupMember.createMany({ data: deviceIds.map((deviceId) => ({ tenantId, groupId, deviceId })) });
  });
  return groupId;
}

/** GraphQL or throw: the data of a request that must succeed. */
export async function gqlData<T>(app: TestApp, token: string, query: string, variables?: Record<string, unknown>): Promise<T> {
  const result = await app.gql<T>(token, query, variables);
  if (result.errors || !result.data) throw new Error(`GraphQL failed: ${JSON.stringify(result.errors)}`);
  return result.data;
}

export const LATEST = /* GraphQL */ `
  query Latest($deviceId: String!, $metrics: [String!]) {
    device(deviceId: $deviceId) { telemetry { latest(metrics: $metrics) { metric value type ts } } }
  }`;

export type LatestValue = { metric: string; value: number | boolean | string; type: string; ts: string };

export async function latestOf(app: TestApp, token: string, deviceId: string, metrics?: string[]): Promise<LatestValue[] | null> {
  const data = await gqlData<{ device: { telemetry: { latest: LatestValue[] } } | null }>(app, token, LATEST, { deviceId, metrics });
  return data.device?.telemetry.latest ?? null;
}

export const HISTORY = /* GraphQL */ `
  query History($deviceId: String!, $metric: String!, $from: DateTime!, $to: DateTime!, $bucket: String!, $aggregate: TelemetryAggregate!) {
    device(deviceId: $deviceId) {
      telemetryHistory(metric: $metric, from: $from, to: $to, bucket: $bucket, aggregate: $aggregate) { startAt endAt value count }
    }
  }`;

export type Bucket = { startAt: string; endAt: string; value: number | null; count: number };

/** A sum over the counter's series with these labels (e.g. rejections of telemetry by reason). */
export async function counterValue(app: TestApp, name: 'mqttRejected' | 'mqttMessages', labels: Record<string, string>): Promise<number> {
  const metric = await app.pulse.app.metrics[name].get();
  return metric.values
    .filter((value) => Object.entries(labels).every(([key, expected]) => (value.labels as Record<string, unknown>)[key] === expected))
    .reduce((sum, value) => sum + value.value, 0);
}
