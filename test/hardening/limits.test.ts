/**
 * Issue 14, classes 2 and 3: limits that cannot be sidestepped, over HTTP and WebSocket, and a bad
 * subscription that never kills its socket. Every limit answers HTTP 400 as GraphQL-over-HTTP
 * (`application/graphql-response+json`) with a code; over graphql-ws, an `error` message for that
 * operation's id while the socket's other subscriptions go on.
 */
import { request as httpRequest } from 'node:http';
import { getIntrospectionQuery } from 'graphql';
import type { Client } from 'graphql-ws';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, test } from '../harness/fixtures.js';
import { startTestApp, type TestApp } from '../harness/app.js';
import { nextListener } from '../harness/listeners.js';
import { REGISTER_DEVICE } from '../harness/operations.js';
import { wsClient } from '../harness/ws.js';

const MAX_REQUEST_BYTES = 64_000;
let app: TestApp;
beforeAll(async () => {
  app = await startTestApp({ MQTT_URL: '', MQTT_PORT: '0', GRAPHQL_MAX_REQUEST_BYTES: String(MAX_REQUEST_BYTES) });
});
afterAll(() => app.stop());

type Body = { data?: unknown; errors?: Array<{ message: string; extensions?: { code?: string } }> };

async function post(token: string, body: string): Promise<{ status: number; type: string | null; body: Body }> {
  const response = await app.pulse.app.yoga.fetch('http://yoga/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', authorization: `Bearer ${token}` },
    body,
  });
  return { status: response.status, type: response.headers.get('content-type'), body: (await response.json()) as Body };
}

const gql = (token: string, query: string, variables?: Record<string, unknown>) => post(token, JSON.stringify({ query, variables }));

async function expectRefused(result: Awaited<ReturnType<typeof post>>, code: string): Promise<void> {
  expect(result.status, JSON.stringify(result.body)).toBe(400);
  expect(result.type).toMatch(/^application\/graphql-response\+json/);
  expect(result.body.data).toBeUndefined();
  expect(result.body.errors?.[0]?.extensions?.code).toBe(code);
  expect(result.body.errors?.[0]?.message).not.toMatch(/^Syntax Error/);
}

const NESTED = `query($n: Int) { devices(first: $n) { edges { node { connectionEvents(first: $n) { edges { node { reason } } } } } } }`;

describe('the cost counts variable values and list sizes', () => {
  test('first as a variable costs what the literal costs: a 500 × 500 nesting is refused either way', async ({ tenant }) => {
    await expectRefused(await gql(tenant.token, NESTED, { n: 500 }), 'QUERY_TOO_COMPLEX');
    await expectRefused(await gql(tenant.token, NESTED.replace('query($n: Int) ', '').replace(/\$n/g, '500')), 'QUERY_TOO_COMPLEX');
    const aliased = `query($n: Int) { ${Array.from({ length: 30 }, (_, i) => `a${i}: devices(first: $n) { edges { node { connectionEvents(first: $n) { edges { node { reason } } } } } }`).join(' ')} }`;
    await expectRefused(await gql(tenant.token, aliased, { n: 500 }), 'QUERY_TOO_COMPLEX');
    // The same shape with small pages is fine.
    expect((await gql(tenant.token, NESTED, { n: 5 })).status).toBe(200);
  });

  test("a maximum page of plain fields (the field's own maximum) passes", async ({ tenant }) => {
    await app.gql(tenant.token, REGISTER_DEVICE, { input: { deviceId: 'page-1', name: 'page', tags: [{ key: 'k', value: 'v' }] } });
    const page = `{ devices(first: 500) { totalCount pageInfo { hasNextPage endCursor } edges { cursor node {
      id deviceId tenantId name model firmwareVersion serialNumber metadata createdAt updatedAt decommissionedAt status lastSeenAt
      tags { key value } site { siteId name } } } } }`;
    const result = await gql(tenant.token, page);
    expect(result.status, JSON.stringify(result.body.errors)).toBe(200);
    expect(result.body.errors).toBeUndefined();
  });
});

describe('shape limits', () => {
  test('500 aliases of __typename count as aliases', async ({ tenant }) => {
    await expectRefused(await gql(tenant.token, `{ ${Array.from({ length: 500 }, (_, i) => `a${i}: __typename`).join(' ')} }`), 'TOO_MANY_ALIASES');
  });

  test('introspection is bounded (an introspection list once per path) and the standard query still passes', async ({ tenant }) => {
    await expectRefused(await gql(tenant.token, '{ __schema { types { fields { type { fields { type { name } } } } } } }'), 'INTROSPECTION_TOO_DEEP');
    const ofTypes = `{ __type(name: "Device") { ${'ofType { '.repeat(25)}name${' }'.repeat(25)} } }`;
    await expectRefused(await gql(tenant.token, ofTypes), 'INTROSPECTION_TOO_DEEP');
    const standard = await gql(tenant.token, getIntrospectionQuery({ descriptions: true, specifiedByUrl: true, directiveIsRepeatable: true, inputValueDeprecation: true }));
    expect(standard.status).toBe(200);
    expect(standard.body.errors).toBeUndefined();
  });

  test('depth and tokens: codes, HTTP 400, never "Syntax Error:"', async ({ tenant }) => {
    await expectRefused(await gql(tenant.token, `{ devices(first: 1) { edges { node { site { devices(first: 1) { edges { node { site { devices(first: 1) { edges { node { site { name } } } } } } } } } } } } }`), 'QUERY_TOO_DEEP');
    await expectRefused(await gql(tenant.token, `{ devices { totalCount ${'__typename '.repeat(2_100)} } }`), 'QUERY_TOO_LARGE');
  });
});

describe('request size', () => {
  /** A raw HTTP POST with a chunked body (no Content-Length), written until the server answers. */
  function chunkedPost(port: number, token: string, totalBytes: number): Promise<{ status: number; body: string; sent: number }> {
    return new Promise((resolve, reject) => {
      let sent = 0;
      const req = httpRequest({ host: '127.0.0.1', port, path: '/graphql', method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` } }, (res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => (body += chunk.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, sent }));
      });
      req.on('error', reject);
      const chunk = `{"query":"{ __typename }","variables":{"pad":"${'x'.repeat(64 * 1024)}`;
      const write = () => {
        while (sent < totalBytes && !req.destroyed) {
          sent += chunk.length;
          if (!req.write(chunk)) return void req.once('drain', write);
        }
        req.end('"}}');
      };
      write();
    });
  }

  test('a chunked body past GRAPHQL_MAX_REQUEST_BYTES is refused with 413, whatever length it declares (none)', async ({ tenant }) => {
    const result = await chunkedPost(app.port, tenant.token, 5 * 1024 * 1024);
    expect(result.status).toBe(413);
    expect(JSON.parse(result.body)).toMatchObject({ errors: [{ extensions: { code: 'PAYLOAD_TOO_LARGE' } }] });
  });

  test('a body nested deeper than a request may be is refused before it is parsed', async ({ tenant }) => {
    const deep = '['.repeat(20_000) + ']'.repeat(20_000);
    const started = Date.now();
    const result = await post(tenant.token, `{"query":"{ __typename }","variables":{"v":${deep}}}`);
    expect(result.status).toBe(400);
    expect(result.body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT' });
    expect(Date.now() - started).toBeLessThan(1_000);
  });
});

describe('over graphql-ws', () => {
  const TWIN = `subscription($deviceId: String!) { deviceTwinChanged(deviceId: $deviceId) { deviceId desiredVersion } }`;

  /** Subscribes and resolves with the errors of the operation's `error` message (rejects if the socket closes). */
  function refusal(client: Client, query: string, variables: Record<string, unknown> = {}): Promise<Array<{ message: string; extensions?: { code?: string } }>> {
    return new Promise((resolve, reject) => {
      client.subscribe({ query, variables }, {
        next: (value) => reject(new Error(`expected an error message, got ${JSON.stringify(value)}`)),
        error: (error) => (Array.isArray(error) ? resolve(error as never) : reject(new Error(`the socket closed: ${String((error as { code?: number }).code ?? error)}`))),
        complete: () => reject(new Error('completed without an error')),
      });
    });
  }

  test('every rejected subscribe is an error for its id; the socket and its live subscription go on', async ({ tenant }) => {
    await app.gql(tenant.token, REGISTER_DEVICE, { input: { deviceId: 'ws-1', name: 'ws' } });
    const client = wsClient(app.port, tenant.token);
    try {
      const listening = nextListener(app, 'deviceTwinChanged', tenant.tenantId);
      const events: unknown[] = [];
      const delivered = new Promise<void>((resolve, reject) => {
        client.subscribe({ query: TWIN, variables: { deviceId: 'ws-1' } }, { next: (value) => (events.push(value), resolve()), error: reject, complete: () => undefined });
      });
      delivered.catch(() => undefined); // awaited below; a socket closed early must not go unhandled meanwhile
      await listening;

      const cases: Array<[string, string, Record<string, unknown>, string | null]> = [
        ['does not parse', 'subscription { deviceTwinChanged(', {}, null],
        ['unknown field', 'subscription { noSuchField }', {}, 'GRAPHQL_VALIDATION_FAILED'],
        ['too deep', `subscription { deviceTwinChanged { device { site { devices { edges { node { site { devices { edges { node { site { devices { edges { node { deviceId } } } } } } } } } } } } } } }`, {}, 'QUERY_TOO_DEEP'],
        ['too many tokens', `subscription { deviceTwinChanged { ${'__typename '.repeat(2_100)} } }`, {}, 'QUERY_TOO_LARGE'],
        ['too many aliases', `subscription { deviceTwinChanged { ${Array.from({ length: 40 }, (_, i) => `a${i}: deviceId`).join(' ')} } }`, {}, 'TOO_MANY_ALIASES'],
        ['too costly, first as a variable', `subscription($n: Int) { deviceTwinChanged { device { site { devices(first: $n) { edges { node { connectionEvents(first: $n) { edges { node { reason } } } } } } } } } }`, { n: 500 }, 'QUERY_TOO_COMPLEX'],
        ['a NUL in an argument', TWIN, { deviceId: 'a\u0000b' }, 'BAD_USER_INPUT'],
      ];
      for (const [name, query, variables, code] of cases) {
        const errors = await refusal(client, query, variables);
        expect(errors.length, name).toBeGreaterThan(0);
        if (code) expect(errors[0]?.extensions?.code, `${name}: ${JSON.stringify(errors)}`).toBe(code);
        expect(errors[0]?.message, name).not.toMatch(/^Unexpected error/);
      }

      // Still the same socket, still listening: a desired write reaches the first subscription.
      await app.gql(tenant.token, 'mutation($input: UpdateDeviceTwinDesiredInput!) { updateDeviceTwinDesired(input: $input) { __typename } }', { input: { deviceId: 'ws-1', desired: { a: 1 } } });
      await delivered;
      expect(events).toEqual([{ data: { deviceTwinChanged: { deviceId: 'ws-1', desiredVersion: 1 } } }]);
    } finally {
      await client.dispose();
    }
  });

  /** The close code a raw socket gets after sending `message` once connected. */
  async function closeCodeAfter(token: string, message: string): Promise<number> {
    const socket = new WebSocket(`ws://127.0.0.1:${app.port}/graphql`, 'graphql-transport-ws');
    await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
    socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } }));
    await new Promise((resolve) => socket.once('message', resolve));
    const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
    socket.send(message);
    return closed;
  }

  test('the frame limit is GRAPHQL_MAX_REQUEST_BYTES; a frame nested too deep is refused before it is parsed', async ({ tenant }) => {
    const big = JSON.stringify({ id: '1', type: 'subscribe', payload: { query: '{ __typename }', variables: { pad: 'x'.repeat(MAX_REQUEST_BYTES) } } });
    expect(await closeCodeAfter(tenant.token, big)).toBe(1009);
    const deep = `{"id":"1","type":"subscribe","payload":{"query":"{ __typename }","variables":{"v":${'['.repeat(5_000)}${']'.repeat(5_000)}}}}`;
    expect(await closeCodeAfter(tenant.token, deep)).toBe(4400);
  });
});
