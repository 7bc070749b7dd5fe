/**
 * Server → device: the full desired document, retained on `pulse/{tenant}/{device}/twin/desired`,
 * so a device gets the current version whenever it (re)subscribes, whether or not it was online
 * when the write happened.
 */
import { withTimeout } from '../../kernel/timeouts.js';
import { deviceTopic } from '../../mqtt/topics.js';
import type { DeviceMessenger } from '../../services.js';
import type { JsonObject } from './json.js';
import type { DeviceKey } from './store.js';

/** The retained message's payload. `version` lets a device ignore a stale or repeated document. */
export type DesiredStateMessage = { version: number; state: JsonObject; ts: string };

/**
 * How long a desired write waits for the broker to accept the retained message. Bounded so a
 * broker outage cannot hold a mutation open; mqtt.js keeps an unacknowledged QoS 1 message queued
 * and sends it on reconnect, so giving up waiting does not drop it.
 */
export const DESIRED_PUBLISH_TIMEOUT_MS = 5_000;

/** Devices whose newest handed-over version is remembered; the oldest entries are forgotten first. */
const REMEMBERED_DEVICES = 10_000;
const newestPublished = new Map<string, number>();

/**
 * Claims the right to publish `version`: false when a newer (or the same) version of the device
 * was already handed to the broker. Writes commit in version order, but their after-commit
 * publishes are separate tasks; without this a late older one could end up as the retained message.
 */
function claim(key: DeviceKey, version: number): boolean {
  const id = `${key.tenantId}/${key.deviceId}`;
  const newest = newestPublished.get(id);
  if (newest !== undefined && newest >= version) return false;
  // Re-inserted so the map's insertion order is least recently published first.
  newestPublished.delete(id);
  newestPublished.set(id, version);
  if (newestPublished.size > REMEMBERED_DEVICES) newestPublished.delete(newestPublished.keys().next().value!);
  return true;
}

/**
 * Publishes the desired document (QoS 1, retained), unless a newer version was already published
 * by this process. Rejects on a broker error or after the timeout; callers run it after commit,
 * where a failure is logged and never undoes the write.
 */
export async function publishDesiredState(
  messenger: DeviceMessenger,
  key: DeviceKey,
  message: DesiredStateMessage,
  timeoutMs = DESIRED_PUBLISH_TIMEOUT_MS,
): Promise<void> {
  if (!claim(key, message.version)) return;
  // The pattern is twinDesiredTopic's (mqtt.ts); not imported from there to keep this file free of the handlers.
  const topic = deviceTopic(key.tenantId, key.deviceId, 'twin/desired');
  await withTimeout(messenger.publish(topic, message, { qos: 1, retain: true }), timeoutMs, `the broker accepting desired version ${message.version} for ${topic}`);
}
