import { connectAsync, type MqttClient } from 'mqtt';
import { buildTopic } from '../harness/topics.js';
import { afterEach } from 'vitest';
import { afterAll, beforeAll, describe, expect, test } from '../harness/fixtures.js';
import { startTestApp, type TestApp } from '../harness/app.js';
import { keepPresence, nextSettled, presenceOf, registerDevice, status, type Registered } from './support.js';

/**
 * The whole server in its embedded shape: Aedes with the device authenticator on the app's own
 * database, and the bridge ingesting from it. Devices log in with the credentials the API issued.
 */
let app: TestApp;
let brokerUrl: string;
beforeAll(async () => {
  app = await startTestApp({ MQTT_URL: '', MQTT_PORT: '0' });
  brokerUrl = app.pulse.broker!.url;
});
afterAll(() => app.stop());

const clients: MqttClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.endAsync(true)));
});

/** Aedes speaks MQTT 3.1.1; a device's client ID is its username. */
async function connectDevice(credentials: { username: string; password: string }): Promise<MqttClient> {
  const client = await connectAsync(brokerUrl, {
    protocolVersion: 4,
    reconnectPeriod: 0,
    connectTimeout: 5_000,
    clientId: credentials.username,
    username: credentials.username,
    password: credentials.password,
  });
  clients.push(client);
  return client;
}

const ROTATE = /* GraphQL */ `
  mutation($deviceId: String!) {
    rotateDeviceCredentials(input: { deviceId: $deviceId }) {
      __typename
      ... on RotateDeviceCredentialsPayload { device { deviceId } credentials { username password topicPrefix } }
      ... on Error { code }
    }
  }`;

describe('device credentials on the embedded broker', () => {
  test('rotation returns new credentials once; the old password is refused, the new one accepted', async ({ tenant }) => {
    const { credentials: old } = await registerDevice(app, tenant.token, 'rot');
    (await connectDevice(old)).end(true);

    const result = await app.gql<{ rotateDeviceCredentials: { __typename: string; credentials: Registered['credentials'] } }>(tenant.token, ROTATE, {
      deviceId: 'rot',
    });
    expect(result.errors).toBeUndefined();
    const rotated = result.data!.rotateDeviceCredentials;
    expect(rotated).toMatchObject({ __typename: 'RotateDeviceCredentialsPayload', credentials: { username: old.username, topicPrefix: old.topicPrefix } });
    expect(rotated.credentials.password).not.toBe(old.password);

    await expect(connectDevice(old)).rejects.toMatchObject({ code: 4 });
    const fresh = await connectDevice(rotated.credentials);
    expect(fresh.connected).toBe(true);
  });

  test('rotation and decommissioning end the sessions opened with the old credentials at once', async ({ tenant }) => {
    const { credentials: first } = await registerDevice(app, tenant.token, 'kick');
    const session = await connectDevice(first);
    const closed = new Promise<void>((resolve) => session.once('close', () => resolve()));
    const rotated = await app.gql<{ rotateDeviceCredentials: { credentials: Registered['credentials'] } }>(tenant.token, ROTATE, { deviceId: 'kick' });
    await closed;
    expect(session.connected).toBe(false);

    const second = await connectDevice(rotated.data!.rotateDeviceCredentials.credentials);
    const secondClosed = new Promise<void>((resolve) => second.once('close', () => resolve()));
    await app.gql(tenant.token, `mutation { decommissionDevice(input: { deviceId: "kick" }) { __typename } }`);
    await secondClosed;
    await expect(connectDevice(rotated.data!.rotateDeviceCredentials.credentials)).rejects.toMatchObject({ code: 4 });
  });

  test('rotating an unknown, decommissioned or foreign device is NotFound; operators may not', async ({ tenant, otherTenant }) => {
    await registerDevice(app, tenant.token, 'mine');
    for (const deviceId of ['ghost', 'mine']) {
      const token = deviceId === 'mine' ? otherTenant.token : tenant.token;
      const result = await app.gql(token, ROTATE, { deviceId });
      expect(result.data?.['rotateDeviceCredentials']).toEqual({ __typename: 'NotFound', code: 'NOT_FOUND' });
    }
    await app.gql(tenant.token, `mutation { decommissionDevice(input: { deviceId: "mine" }) { __typename } }`);
    expect((await app.gql(tenant.token, ROTATE, { deviceId: 'mine' })).data?.['rotateDeviceCredentials']).toMatchObject({ __typename: 'NotFound' });
    const operator = await app.gql(tenant.operatorToken, ROTATE, { deviceId: 'mine' });
    expect(operator.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN' });
  });
});

describe("a device cannot write another device's state", () => {
  test.for([
    ['another device of its tenant', 'same'],
    ['a device of another tenant', 'other'],
  ] as const)("a publish on %s's status topic never reaches the app", async ([, whose], { tenant, otherTenant }) => {
    await keepPresence(app, tenant.token);
    await keepPresence(app, otherTenant.token);
    const a = await registerDevice(app, tenant.token, 'dev-a');
    const victimTenant = whose === 'same' ? tenant : otherTenant;
    await registerDevice(app, victimTenant.token, 'dev-b');

    const device = await connectDevice(a.credentials);
    // 3.1.1 has no NAK for PUBLISH: the broker closes the connection instead of acknowledging.
    const outcome = await new Promise<'closed' | 'acknowledged'>((resolve) => {
      device.once('close', () => resolve('closed'));
      device.publish(buildTopic.status(victimTenant.tenantId, 'dev-b'), status('online'), { qos: 1 }, (error) => {
        if (!error) resolve('acknowledged');
      });
    });
    expect(outcome).toBe('closed');

    // Its own status, sent afterwards, is applied: once it is, the forbidden one would have been too.
    const again = await connectDevice(a.credentials);
    const settled = nextSettled(app, buildTopic.status(tenant.tenantId, 'dev-a'));
    await again.publishAsync(buildTopic.status(tenant.tenantId, 'dev-a'), status('online'), { qos: 1 });
    expect(await settled).toEqual({ status: 'applied' });
    await app.pulse.app.bridge.idle();

    expect((await presenceOf(app, tenant.token, 'dev-a')).status).toBe('ONLINE');
    expect(await presenceOf(app, victimTenant.token, 'dev-b')).toMatchObject({ status: 'OFFLINE', events: [] });
  });
});
