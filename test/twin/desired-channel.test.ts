import { randomUUID } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { publishDesiredState } from '../../src/modules/twin/desired-channel.js';
import type { DeviceMessenger } from '../../src/services.js';

/** Records what would go to the broker; the broker itself is exercised in twin-mqtt.test.ts. */
function recorder() {
  const sent: Array<{ topic: string; payload: unknown; options: { qos: 0 | 1; retain: boolean } }> = [];
  const messenger: DeviceMessenger = {
    publish: async (topic, payload, options) => {
      sent.push({ topic, payload, options });
    },
  };
  return { sent, messenger };
}

const device = () => ({ tenantId: `t-${randomUUID()}`, deviceId: 'd1' });
const message = (version: number) => ({ version, state: { v: version }, ts: '2026-01-01T00:00:00.000Z' });

describe('publishDesiredState', () => {
  test('publishes the whole document retained at QoS 1 on the device’s desired topic', async () => {
    const { sent, messenger } = recorder();
    const key = device();
    await publishDesiredState(messenger, key, message(1));
    expect(sent).toEqual([{ topic: `pulse/${key.tenantId}/d1/twin/desired`, payload: message(1), options: { qos: 1, retain: true } }]);
  });

  test('a late publish of an older version is skipped, so the retained message stays the newest', async () => {
    const { sent, messenger } = recorder();
    const key = device();
    await publishDesiredState(messenger, key, message(3));
    await publishDesiredState(messenger, key, message(2));
    await publishDesiredState(messenger, key, message(3));
    await publishDesiredState(messenger, key, message(4));
    expect(sent.map((entry) => (entry.payload as { version: number }).version)).toEqual([3, 4]);
  });

  test('rejects when the broker does not accept it in time, and on a broker error', async () => {
    const stuck: DeviceMessenger = { publish: () => new Promise<void>(() => undefined) };
    await expect(publishDesiredState(stuck, device(), message(1), 5)).rejects.toThrow(/accepting desired version 1 .* did not finish within 5 ms/);
    const failing: DeviceMessenger = { publish: () => Promise.reject(new Error('connection lost')) };
    await expect(publishDesiredState(failing, device(), message(1))).rejects.toThrow('connection lost');
  });
});
