import pino from 'pino';
import { Writable } from 'node:stream';
import { GraphQLError } from 'graphql';
import { afterAll, beforeAll, describe, expect, test } from '../harness/fixtures.js';
import { startTestApp, type TestApp } from '../harness/app.js';
import { createErrorMasker } from '../../src/graphql/error-masking.js';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp({ GRAPHQL_INTROSPECTION: 'false', GRAPHQL_MAX_DEPTH: '6', RATE_LIMIT_PER_MINUTE: '1000' });
});
afterAll(() => app.stop());

describe('abuse limits', () => {
  test('a query deeper than GRAPHQL_MAX_DEPTH is refused before execution', async ({ tenant }) => {
    const deep = `{ devices { edges { node { site { devices { edges { node { site { name } } } } } } } } }`;
    const result = await app.gql(tenant.token, deep);
    expect(result.data).toBeUndefined();
    expect(result.errors?.[0]?.message).toMatch(/depth/i);
  });

  test('introspection can be switched off for production', async ({ tenant }) => {
    const result = await app.gql(tenant.token, '{ __schema { types { name } } }');
    expect(result.errors?.[0]?.message).toMatch(/introspection/i);
  });

  test('too many aliases are refused', async ({ tenant }) => {
    const aliases = Array.from({ length: 40 }, (_, index) => `a${index}: devices { totalCount }`).join(' ');
    const result = await app.gql(tenant.token, `{ ${aliases} }`);
    expect(result.errors?.[0]?.message).toMatch(/alias/i);
  });

  test('a token over its per-minute budget gets RATE_LIMITED with HTTP 429', async ({ tenant }) => {
    const limited = await startTestApp({ RATE_LIMIT_PER_MINUTE: '3' });
    try {
      const statuses: number[] = [];
      for (let attempt = 0; attempt < 5; attempt += 1) {
        const response = await limited.pulse.app.yoga.fetch('http://yoga/graphql', {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${tenant.token}` },
          body: JSON.stringify({ query: '{ devices { totalCount } }' }),
        });
        statuses.push(response.status);
      }
      expect(statuses).toEqual([200, 200, 200, 429, 429]);
    } finally {
      await limited.stop();
    }
  });
});

describe('error masking', () => {
  function capture() {
    const lines: Array<Record<string, unknown>> = [];
    const stream = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
        done();
      },
    });
    return { logger: pino({ level: 'error' }, stream), lines };
  }

  test('an unexpected error reaches the client as an id only; the original is logged under that id', async () => {
    const { logger, lines } = capture();
    const original = new Error('duplicate key value violates unique constraint "device_registry_pkey" SELECT * FROM secret');
    const masked = createErrorMasker(logger)(new GraphQLError(original.message, { originalError: original, path: ['device'] }));
    expect(masked.message).toMatch(/^Unexpected error \(logged with id [0-9a-f-]{36}\)$/);
    expect(JSON.stringify(masked)).not.toMatch(/SELECT|constraint|at .*\.ts/);
    const errorId = (masked as GraphQLError).extensions['errorId'];
    await new Promise((resolve) => setImmediate(resolve));
    expect(lines.find((line) => line['errorId'] === errorId)).toMatchObject({ msg: 'unexpected error in GraphQL operation' });
  });

  test('errors meant for clients (bad variables) pass through unchanged', () => {
    const { logger } = capture();
    const error = new GraphQLError('Variable "$input" got invalid value 42');
    expect(createErrorMasker(logger)(error)).toBe(error);
  });
});
