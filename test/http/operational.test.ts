import { afterAll, beforeAll, describe, expect, test } from '../harness/fixtures.js';
import { startTestApp, type TestApp } from '../harness/app.js';
import { REGISTER_DEVICE } from '../harness/operations.js';

let app: TestApp;
let base: string;
beforeAll(async () => {
  app = await startTestApp();
  base = `http://127.0.0.1:${app.port}`;
});
afterAll(() => app.stop());

describe('operational endpoints', () => {
  test('/health answers without touching dependencies; /ready checks database and broker', async () => {
    const health = await fetch(`${base}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });
    const ready = await fetch(`${base}/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready', database: 'ok', broker: 'ok' });
  });

  test('/metrics is Prometheus text and counts GraphQL operations', async ({ tenant }) => {
    await app.gql(tenant.token, REGISTER_DEVICE, { input: { deviceId: 'm1', name: 'm1' } });
    const response = await fetch(`${base}/metrics`);
    expect(response.headers.get('content-type')).toMatch(/text\/plain/);
    const text = await response.text();
    expect(text).toMatch(/^# TYPE pulse_graphql_operations_total counter$/m);
    expect(text).toMatch(/pulse_graphql_operations_total\{type="mutation",outcome="ok"\} [1-9]/);
    expect(text).toMatch(/^pulse_process_cpu_user_seconds_total /m);
  });

  test('a request body over the limit is refused with 413 before it is read', async ({ tenant }) => {
    const response = await fetch(`${base}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${tenant.token}` },
      body: JSON.stringify({ query: `{ devices { totalCount } }`, padding: 'x'.repeat(1_100_000) }),
    });
    expect(response.status).toBe(413);
    expect(await response.json()).toMatchObject({ errors: [{ extensions: { code: 'PAYLOAD_TOO_LARGE' } }] });
  });

  test('GraphiQL is served gzipped to browsers, with a validator', async () => {
    const response = await fetch(`${base}/graphql`, { headers: { accept: 'text/html', 'accept-encoding': 'gzip' } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-encoding')).toBe('gzip');
    const etag = response.headers.get('etag')!;
    expect(await response.text()).toContain('GraphiQL');
    const cached = await fetch(`${base}/graphql`, { headers: { accept: 'text/html', 'if-none-match': etag } });
    expect(cached.status).toBe(304);
  });
});
