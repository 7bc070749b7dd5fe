import { describe, expect, test } from '../harness/fixtures.js';
import { startTestApp } from '../harness/app.js';
import { REGISTER_DEVICE } from '../harness/operations.js';
import { nextListener } from '../harness/listeners.js';
import { subscribe, wsClient } from '../harness/ws.js';

describe('graceful shutdown', () => {
  test('answers a request it already received, closes subscriptions and stops listening', async ({ tenant }) => {
    const app = await startTestApp();
    const base = `http://127.0.0.1:${app.port}`;
    const client = wsClient(app.port, tenant.token);
    const listening = nextListener(app, 'deviceChanged', tenant.tenantId);
    const events = subscribe<{ deviceChanged: { deviceId: string } }>(client, 'subscription { deviceChanged { deviceId } }');
    await listening;

    const inFlight = fetch(`${base}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${tenant.token}` },
      body: JSON.stringify({ query: REGISTER_DEVICE, variables: { input: { deviceId: 'last', name: 'Last' } } }),
    });
    // The request is on the wire before shutdown starts: wait for its event to be sure it ran.
    expect((await events.next()).deviceChanged.deviceId).toBe('last');
    await app.stop();

    expect((await inFlight).status).toBe(200);
    await expect(events.next()).rejects.toThrow();
    await expect(fetch(`${base}/health`)).rejects.toThrow();
    await client.dispose();
  });
});
