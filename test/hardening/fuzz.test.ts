/**
 * Issue 14, class 10 (fuzz): property-based inputs, random and adversarial, for every mutation's
 * `input` (arbitraries derived from the schema, so new modules' mutations are fuzzed as they land)
 * and every MQTT inbound topic's payload (the codec directly, then a sample through the real
 * broker and bridge). The properties: no masked unexpected error, no 5xx, no crash, no message
 * that fails to settle; every rejection is counted by kind. A fixed seed (FUZZ_SEED to change it)
 * is printed by fast-check with any counterexample.
 */
import fc from 'fast-check';
import {
  getNamedType,
  isEnumType,
  isInputObjectType,
  isListType,
  isNonNullType,
  type GraphQLInputType,
} from 'graphql';
import { decodePayload } from '../../src/mqtt/codec.js';
import { deviceTopic } from '../../src/mqtt/topics.js';
import { afterAll, beforeAll, describe, expect, test } from '../harness/fixtures.js';
import { startTestApp, type TestApp } from '../harness/app.js';
import { closeClients, deviceClient, nextSettled, registerDevice } from '../connectivity/support.js';
import { topics } from '../harness/topics.js';

const SEED = Number(process.env['FUZZ_SEED'] ?? 1_402_2026);
const GRAPHQL_RUNS = 300;
const CODEC_RUNS = 300;
const MQTT_RUNS = 120;

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp({ MQTT_URL: '', MQTT_PORT: '0' });
});
afterAll(async () => {
  await closeClients();
  await app.stop();
});

const nested = (depth: number, leaf: unknown): unknown => {
  let value = leaf;
  for (let i = 0; i < depth; i += 1) value = { k: value };
  return value;
};

/** Strings an attacker or a broken client would send. */
const hostileString = fc.oneof(
  fc.constantFrom('', ' ', 'a\u0000b', '\u0000', '%00', "'; DROP TABLE device_registry; --", '../../etc/passwd', '🙂'.repeat(50), '\uD800', '$where', '__proto__', 'constructor'),
  fc.string({ maxLength: 40 }),
  fc.integer({ min: 1_000, max: 300_000 }).map((n) => 'x'.repeat(n)),
);
const hostileNumber = fc.oneof(fc.integer(), fc.constantFrom(-1, 0, 2_147_483_648, -2_147_483_649, Number.MAX_SAFE_INTEGER, 1e308, -0), fc.double({ noNaN: true, noDefaultInfinity: true }));
const hostileJson: fc.Arbitrary<unknown> = fc.oneof(
  fc.jsonValue({ maxDepth: 4 }),
  fc.integer({ min: 5, max: 60 }).map((depth) => nested(depth, 1)),
  fc.constant(JSON.parse('{"__proto__":{"admin":true},"a":1}')),
  fc.constant({ 'k\u0000': 1 }),
  fc.array(fc.constant('x'.repeat(1_000)), { maxLength: 400 }),
);

/** A value for `type`: mostly well-typed (random), sometimes wrong in type, value or size. */
function arbitraryFor(type: GraphQLInputType, name: string, depth: number): fc.Arbitrary<unknown> {
  if (isNonNullType(type)) return fc.oneof({ weight: 9, arbitrary: arbitraryFor(type.ofType, name, depth) }, { weight: 1, arbitrary: fc.constant(null) });
  const wrongType = fc.constantFrom<unknown>(null, 42, 'text', true, [], {});
  if (isListType(type)) {
    return fc.oneof(
      { weight: 8, arbitrary: fc.array(arbitraryFor(type.ofType, name, depth + 1), { maxLength: 4 }) },
      { weight: 1, arbitrary: fc.integer({ min: 1_001, max: 3_000 }).map((n) => Array.from({ length: n }, (_, i) => `x${i}`)) },
      { weight: 1, arbitrary: wrongType },
    );
  }
  const named = getNamedType(type);
  if (isEnumType(named)) return fc.oneof({ weight: 8, arbitrary: fc.constantFrom(...named.getValues().map((value) => value.name)) }, { weight: 1, arbitrary: hostileString });
  if (isInputObjectType(named)) {
    if (depth > 3) return fc.constant(undefined);
    const fields = Object.values(named.getFields());
    const shape = Object.fromEntries(fields.map((field) => [field.name, arbitraryFor(field.type, field.name, depth + 1)]));
    const required = fields.filter((field) => isNonNullType(field.type)).map((field) => field.name);
    return fc.oneof({ weight: 9, arbitrary: fc.record(shape, { requiredKeys: required }) }, { weight: 1, arbitrary: wrongType });
  }
  // Known IDs now and then, so fuzzed writes reach the rows that exist.
  const ids = /Id$/.test(name) ? [fc.constantFrom('fz-dev', 'fz-dev', 'missing')] : [];
  switch (named.name) {
    case 'Int':
      return fc.oneof(fc.integer({ min: -5, max: 1_000 }), hostileNumber, wrongType);
    case 'Float':
      return fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e6, max: 1e6 }), hostileNumber, wrongType);
    case 'Boolean':
      return fc.oneof(fc.boolean(), wrongType);
    case 'DateTime':
      return fc.oneof(fc.date({ min: new Date('2000-01-01'), max: new Date('2100-01-01'), noInvalidDate: true }).map((date) => date.toISOString()), hostileString, wrongType);
    case 'JSON':
    case 'JSONObject':
      return fc.oneof(fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 5 }), hostileJson);
    default:
      return fc.oneof(...ids, fc.string({ minLength: 1, maxLength: 20 }), hostileString, wrongType);
  }
}

describe('fuzzing', () => {
  test('every mutation input: no masked unexpected error, no 5xx, every rejection counted', { timeout: 120_000 }, async ({ tenant }) => {
    await registerDevice(app, tenant.token, 'fz-dev');
    const mutation = app.pulse.app.modules.schema.getMutationType()!;
    const mutations = Object.values(mutation.getFields()).filter((field) => field.args.some((arg) => arg.name === 'input'));
    expect(mutations.length).toBeGreaterThan(15);
    const counts = new Map<string, number>();
    const count = (key: string) => counts.set(key, (counts.get(key) ?? 0) + 1);
    const cases = fc.oneof(
      ...mutations.map((field) => {
        const input = field.args.find((arg) => arg.name === 'input')!;
        return arbitraryFor(input.type, 'input', 0).map((value) => ({ field: field.name, type: input.type.toString(), value }));
      }),
    );
    await fc.assert(
      fc.asyncProperty(cases, async ({ field, type, value }) => {
        const response = await app.pulse.app.yoga.fetch('http://yoga/graphql', {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', authorization: `Bearer ${tenant.token}` },
          body: JSON.stringify({ query: `mutation($input: ${type}) { result: ${field}(input: $input) { __typename } }`, variables: { input: value } }),
        });
        const body = (await response.json()) as { data?: { result?: { __typename: string } | null }; errors?: Array<{ message: string; extensions?: { code?: string } }> };
        if (response.status >= 500) throw new Error(`${field}: HTTP ${response.status} ${JSON.stringify(body).slice(0, 300)}`);
        const unexpected = (body.errors ?? []).filter((error) => error.extensions?.code === 'INTERNAL_SERVER_ERROR' || /Unexpected error/.test(error.message));
        if (unexpected.length > 0) throw new Error(`${field}: ${JSON.stringify(unexpected)} for ${JSON.stringify(value).slice(0, 300)}`);
        const typename = body.data?.result?.__typename;
        count(typename ? (typename.endsWith('Payload') ? 'accepted' : `typed ${typename}`) : `error ${body.errors?.[0]?.extensions?.code ?? 'none'}`);
      }),
      { seed: SEED, numRuns: GRAPHQL_RUNS, endOnFailure: true },
    );
    expect([...counts.values()].reduce((a, b) => a + b, 0)).toBe(GRAPHQL_RUNS);
    expect([...counts.keys()].some((key) => key !== 'accepted')).toBe(true);
    // The server is still there.
    expect((await app.gql(tenant.token, '{ __typename }')).data).toEqual({ __typename: 'Query' });
  });

  const inbound = [...topics.inbound];
  const payloadBytes = fc.oneof(
    fc.uint8Array({ maxLength: 300 }),
    fc.jsonValue({ maxDepth: 5 }).map((value) => Buffer.from(JSON.stringify(value))),
    hostileJson.map((value) => Buffer.from(JSON.stringify(value))),
    fc.record({ state: fc.constantFrom('online', 'offline', 'other'), seq: hostileNumber, ts: fc.oneof(hostileNumber, hostileString), metrics: fc.dictionary(fc.string({ maxLength: 6 }), fc.oneof(hostileNumber, fc.boolean())) }, { requiredKeys: [] }).map((value) => Buffer.from(JSON.stringify(value))),
    fc.integer({ min: 33, max: 5_000 }).map((depth) => Buffer.from('['.repeat(depth) + ']'.repeat(depth))),
  );

  test('the MQTT codec of every inbound topic: a typed answer for any bytes, never a throw', () => {
    expect(inbound.length).toBeGreaterThanOrEqual(5);
    const reasons = new Map<string, number>();
    fc.assert(
      fc.property(fc.constantFrom(...inbound), payloadBytes, (topic, bytes) => {
        const result = decodePayload(topic.payload, bytes);
        const key = result.ok ? 'ok' : result.reason;
        reasons.set(key, (reasons.get(key) ?? 0) + 1);
        if (!result.ok && result.detail.startsWith('decoder error')) throw new Error(`${topic.kind}: ${result.detail}`);
      }),
      { seed: SEED, numRuns: CODEC_RUNS },
    );
    expect([...reasons.values()].reduce((a, b) => a + b, 0)).toBe(CODEC_RUNS);
  });

  test('through the broker and the bridge: every message settles, none fails unexpectedly', { timeout: 60_000 }, async ({ tenant }) => {
    const device = await registerDevice(app, tenant.token, 'fz-mqtt');
    const client = await deviceClient({ url: app.mqttUrl, ...device.credentials, clientId: `${tenant.tenantId}/fz-mqtt`, protocolVersion: 4 });
    const outcomes = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...inbound), fc.stringMatching(/^[a-z0-9][a-z0-9-]{0,11}$/), payloadBytes, async (topic, id, bytes) => {
        const params = Object.fromEntries([...topic.topic.matchAll(/\{(\w+)\}/g)].map((match) => [match[1]!, id]));
        const name = deviceTopic(tenant.tenantId, 'fz-mqtt', topic.topic, params);
        const settled = nextSettled(app, name);
        await client.publishAsync(name, Buffer.from(bytes), { qos: 1 });
        const outcome = await settled;
        const key = outcome.status === 'rejected' ? `${topic.kind}/${outcome.reason}` : `${topic.kind}/${outcome.status}`;
        outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
        if (outcome.status === 'failed') throw new Error(`${topic.kind}: processing failed for ${Buffer.from(bytes).toString('utf8').slice(0, 200)}`);
      }),
      { seed: SEED, numRuns: MQTT_RUNS, endOnFailure: true },
    );
    expect([...outcomes.values()].reduce((a, b) => a + b, 0)).toBe(MQTT_RUNS);
  });
});
