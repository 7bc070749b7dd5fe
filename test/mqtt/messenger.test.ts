import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createLogger } from '../../src/logger.js';
import { connectServiceClient, mqttMessenger } from '../../src/mqtt/service-client.js';
import { startMosquitto, type OwnMosquitto } from '../harness/mosquitto.js';
import { uniqueName } from '../harness/postgres.js';

/** Server → device publishes while the broker is away: queued, not waited for, delivered after. */
let mosquitto: OwnMosquitto;
beforeAll(async () => {
  mosquitto = await startMosquitto();
});
afterAll(() => mosquitto.dispose());

describe('device messenger', () => {
  test('a QoS 1 publish during a broker outage returns at once and is delivered after the reconnect', async () => {
    const client = await connectServiceClient(
      { url: mosquitto.url, clientId: uniqueName('svc'), protocolVersion: 5 },
      createLogger('silent'),
    );
    try {
      const messenger = mqttMessenger(() => client);
      const offline = new Promise<void>((resolve) => client.once('offline', () => resolve()));
      await mosquitto.stop();
      await offline;

      // Without the early return this would wait for a PUBACK until the broker is back.
      await messenger.publish('pulse/t1/d1/twin/desired', { version: 7, state: { a: 1 } }, { qos: 1, retain: true });

      const reconnected = new Promise<void>((resolve) => client.once('connect', () => resolve()));
      await mosquitto.start();
      await reconnected;
      const device = await mqtt.connectAsync(mosquitto.url, { clientId: uniqueName('dev'), protocolVersion: 5, reconnectPeriod: 0 });
      try {
        const received = new Promise<unknown>((resolve) => device.on('message', (_topic, payload) => resolve(JSON.parse(payload.toString()))));
        await device.subscribeAsync('pulse/t1/d1/twin/desired', { qos: 1 });
        expect(await received).toEqual({ version: 7, state: { a: 1 } });
      } finally {
        await device.endAsync();
      }
    } finally {
      await client.endAsync(true);
    }
  });
});
