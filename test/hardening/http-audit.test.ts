/**
 * Issue 14, class 10 (audit): graphql-http's GraphQL-over-HTTP server audits against the real
 * server over TCP, with the limits and body bounds of this issue in place. Every audit must pass
 * (`ok`); the few that cannot apply to Pulse are named here with the reason.
 */
import { serverAudits } from 'graphql-http';
import { afterAll, beforeAll, describe, expect, test } from '../harness/fixtures.js';
import { startTestApp, tokenFor, type TestApp } from '../harness/app.js';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp({ MQTT_URL: '', MQTT_PORT: '0' });
});
afterAll(() => app.stop());

describe('GraphQL over HTTP conformance', () => {
  test('every graphql-http server audit passes', async () => {
    const token = await tokenFor('audit-tenant');
    // Every Pulse operation needs a token: the audits' requests carry one, nothing else changes.
    const fetchFn = (input: RequestInfo | URL, init: RequestInit = {}) => {
      const headers = new Headers(init.headers);
      headers.set('authorization', `Bearer ${token}`);
      return fetch(input, { ...init, headers });
    };
    const audits = serverAudits({ url: `http://127.0.0.1:${app.port}/graphql`, fetchFn });
    expect(audits.length).toBeGreaterThan(50);
    const results = await Promise.all(audits.map((audit) => audit.fn()));
    const failed = results.filter((result) => result.status !== 'ok').map((result) => `${result.name}: ${result.status} ${'reason' in result ? result.reason : ''}`);
    expect(failed, `${results.length - failed.length}/${results.length} audits ok`).toEqual([]);
  });
});
