/**
 * Issue 14, classes 4 and 5: JSON inputs are bounded before anything walks them, `__proto__` is
 * refused everywhere, and client mistakes are typed (BAD_USER_INPUT / a ValidationError result),
 * never "Unexpected error". The inputs are found in the schema: every JSON input of every
 * mutation, every argument of every root field, so the coming modules' inputs are covered too.
 */
import {
  getNamedType,
  isInputObjectType,
  isNonNullType,
  type GraphQLField,
  type GraphQLInputObjectType,
  type GraphQLSchema,
} from 'graphql';
import { afterAll, beforeAll, describe, expect, test } from '../harness/fixtures.js';
import { startTestApp, type TestApp } from '../harness/app.js';
import { closeClients, deviceClient, publishSettled, registerDevice } from '../connectivity/support.js';
import { buildTopic } from '../harness/topics.js';
import { literal, valueFor, type WalkValues } from './schema-walk.js';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp({ MQTT_URL: '', MQTT_PORT: '0' });
});
afterAll(async () => {
  await closeClients();
  await app.stop();
});

type Result = { status: number; body: { data?: Record<string, unknown> | null; errors?: Array<{ message: string; extensions?: Record<string, unknown> }> } };

async function post(token: string, body: string): Promise<Result> {
  const response = await app.pulse.app.yoga.fetch('http://yoga/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', authorization: `Bearer ${token}` },
    body,
  });
  return { status: response.status, body: (await response.json()) as Result['body'] };
}

/** `{"k":{"k":…1…}}` nested `depth` levels, as text: JSON.stringify itself would overflow building it. */
const nestedText = (depth: number) => '{"k":'.repeat(depth) + '1' + '}'.repeat(depth);

/** Paths (from the input object) to every JSON / JSONObject input field, and the input's required fields. */
function jsonInputPaths(type: GraphQLInputObjectType, prefix: string[] = [], seen = new Set<string>()): string[][] {
  if (seen.has(type.name)) return [];
  seen.add(type.name);
  return Object.values(type.getFields()).flatMap((field) => {
    const named = getNamedType(field.type);
    if (named.name === 'JSON' || named.name === 'JSONObject') return [[...prefix, field.name]];
    return isInputObjectType(named) && !String(field.type).startsWith('[') ? jsonInputPaths(named, [...prefix, field.name], seen) : [];
  });
}

interface JsonInput {
  mutation: string;
  path: string[];
  /** The mutation's `input` as text with `value` (JSON text) at `path`. */
  body(value: string): string;
}

/** Every JSON input field of every mutation taking `input:`, with valid-looking required fields around it. */
function mutationJsonInputs(schema: GraphQLSchema, values: WalkValues): JsonInput[] {
  const mutation = schema.getMutationType()!;
  return Object.values(mutation.getFields()).flatMap((field: GraphQLField<unknown, unknown>) => {
    const inputArg = field.args.find((arg) => arg.name === 'input');
    const inputType = inputArg && getNamedType(inputArg.type);
    if (!inputType || !isInputObjectType(inputType)) return [];
    return jsonInputPaths(inputType).map((path) => ({
      mutation: field.name,
      path,
      body(value: string) {
        const input = valueFor('input', inputType, values) as Record<string, unknown>;
        // A placeholder at the path, replaced by the raw JSON text.
        let at = input;
        path.slice(0, -1).forEach((key) => (at = (at[key] ??= {}) as Record<string, unknown>));
        at[path.at(-1)!] = '__VALUE__';
        const query = `mutation($input: ${inputArg.type.toString()}) { ${field.name}(input: $input) { __typename ... on ValidationError { issues { path code } } } }`;
        return JSON.stringify({ query, variables: { input } }).replace('"__VALUE__"', value);
      },
    }));
  });
}

const VALUES: WalkValues = { byName: { deviceId: 'dev', desired: {}, metadata: {} } };

describe('JSON inputs are bounded before they are walked', () => {
  test('every JSON input of every mutation: 10,000 levels are refused at once, 40 levels with a typed TOO_DEEP', async ({ tenant }) => {
    await registerDevice(app, tenant.token, 'dev');
    const inputs = mutationJsonInputs(app.pulse.app.modules.schema, VALUES);
    expect(inputs.map((input) => `${input.mutation}.${input.path.join('.')}`)).toEqual(
      expect.arrayContaining(['registerDevice.metadata', 'updateDevice.metadata', 'updateDeviceTwinDesired.desired', 'upsertDeviceConnection.metadata']),
    );
    for (const input of inputs) {
      const name = `${input.mutation}.${input.path.join('.')}`;
      const started = Date.now();
      const huge = await post(tenant.token, input.body(nestedText(10_000)));
      expect(Date.now() - started, name).toBeLessThan(500);
      expect(huge.status, name).toBe(400);
      expect(huge.body.errors?.[0]?.extensions, name).toMatchObject({ code: 'BAD_USER_INPUT', issues: [{ code: 'TOO_DEEP' }] });

      const deep = await post(tenant.token, input.body(nestedText(40)));
      expect(deep.status, `${name}: ${JSON.stringify(deep.body)}`).toBe(400);
      expect(deep.body.errors?.[0]?.extensions, name).toMatchObject({ code: 'BAD_USER_INPUT', issues: [{ code: 'TOO_DEEP' }] });
      expect(deep.body.errors?.[0]?.message, name).toMatch(/\$input.*nested deeper than 32 levels/);
    }
  });

  test('__proto__ is refused as a key in every JSON input (FORBIDDEN_KEY), never dropped or kept', async ({ tenant }) => {
    await registerDevice(app, tenant.token, 'dev');
    for (const input of mutationJsonInputs(app.pulse.app.modules.schema, VALUES)) {
      const name = `${input.mutation}.${input.path.join('.')}`;
      const result = await post(tenant.token, input.body('{"ok":1,"__proto__":{"polluted":true}}'));
      const payload = Object.values(result.body.data ?? {})[0] as { __typename: string; issues?: Array<{ path: string[]; code: string }> } | undefined;
      expect(payload?.__typename, `${name}: ${JSON.stringify(result.body)}`).toBe('ValidationError');
      expect(payload?.issues, name).toContainEqual({ path: ['input', ...input.path, '__proto__'], code: 'FORBIDDEN_KEY' });
    }
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    const stored = await app.gql<{ device: { metadata: unknown; twin: { desired: unknown } } }>(tenant.token, '{ device(deviceId: "dev") { metadata twin { desired } } }');
    expect(stored.data?.device).toEqual({ metadata: {}, twin: { desired: {} } });
  });

  test('metadata has a depth limit of its own (8) as a typed ValidationError', async ({ tenant }) => {
    const result = await app.gql<{ registerDevice: { __typename: string; issues: Array<{ code: string }> } }>(
      tenant.token,
      'mutation($input: RegisterDeviceInput!) { registerDevice(input: $input) { __typename ... on ValidationError { issues { code } } } }',
      { input: { deviceId: 'meta', name: 'meta', metadata: JSON.parse(nestedText(9)) as object } },
    );
    expect(result.data?.registerDevice).toEqual({ __typename: 'ValidationError', issues: [{ code: 'TOO_DEEP' }] });
  });

  test('over MQTT the same rules hold: a __proto__ key in a twin report is dropped as INVALID', async ({ tenant }) => {
    const device = await registerDevice(app, tenant.token, 'mq');
    const client = await deviceClient({ url: app.mqttUrl, ...device.credentials, clientId: `${tenant.tenantId}/mq`, protocolVersion: 4 });
    const outcome = await publishSettled(app, client, buildTopic.twinReported(tenant.tenantId, 'mq'), '{"state":{"__proto__":{"polluted":true}}}');
    expect(outcome).toEqual({ status: 'rejected', reason: 'INVALID' });
  });
});

describe('client mistakes are typed, never "Unexpected error"', () => {
  const rootFields = () => Object.values(app.pulse.app.modules.schema.getQueryType()!.getFields());
  /** A query of `field` with its required arguments and `extra`, selecting only `__typename`. */
  function queryOf(field: GraphQLField<unknown, unknown>, extra: Record<string, unknown>): string {
    const args = Object.fromEntries([
      ...field.args.filter((arg) => isNonNullType(arg.type)).map((arg) => [arg.name, valueFor(arg.name, arg.type, { byName: { deviceId: 'dev' } })]),
      ...Object.entries(extra),
    ]);
    const list = Object.entries(args).map(([name, value]) => `${name}: ${literal(value)}`).join(', ');
    const leaf = ['String', 'Int', 'Boolean', 'Float', 'ID'].includes(getNamedType(field.type).name) || field.name === 'node';
    return `{ ${field.name}${list ? `(${list})` : ''}${leaf && field.name !== 'node' ? '' : ' { __typename }'} }`;
  }

  /**
   * A typed client error: BAD_USER_INPUT (refused before the field's own rules: Pothos' page and
   * cursor checks, NUL, JSON bounds) or VALIDATION_FAILED (a module's own rules, with issues).
   */
  function expectBadUserInput(result: Result, what: string, codes = ['BAD_USER_INPUT', 'VALIDATION_FAILED']): void {
    const errors = result.body.errors ?? [];
    expect(errors.length, `${what}: ${JSON.stringify(result.body)}`).toBeGreaterThan(0);
    for (const error of errors) {
      expect(codes, `${what}: ${JSON.stringify(error)}`).toContain(error.extensions?.['code']);
      expect(error.message, what).not.toMatch(/Unexpected error/);
    }
  }

  test('the reported examples: devices(first: -1), last: -5, a bad cursor, a NUL argument', async ({ tenant }) => {
    for (const query of ['{ devices(first: -1) { totalCount } }', '{ devices(last: -5) { totalCount } }', '{ devices(after: "garbage") { totalCount } }', '{ device(deviceId: "a\\u0000b") { deviceId } }']) {
      expectBadUserInput(await post(tenant.token, JSON.stringify({ query })), query, ['BAD_USER_INPUT']);
    }
  });

  test('negative first / last and cursors that do not decode, on every root connection', async ({ tenant }) => {
    const connections = rootFields().filter((field) => field.args.some((arg) => arg.name === 'first') && field.args.some((arg) => arg.name === 'after'));
    expect(connections.map((field) => field.name)).toEqual(expect.arrayContaining(['devices', 'sites', 'twinHistory']));
    for (const field of connections) {
      for (const extra of [{ first: -1 }, { last: -5 }, { after: 'garbage' }, { before: '%%%' }]) {
        const query = queryOf(field, extra);
        expectBadUserInput(await post(tenant.token, JSON.stringify({ query })), query);
      }
    }
  });

  test('a NUL character in any string argument of any root field, literal or variable', async ({ tenant }) => {
    const withStrings = rootFields().filter((field) => field.args.some((arg) => ['String', 'ID'].includes(getNamedType(arg.type).name)));
    expect(withStrings.length).toBeGreaterThan(10);
    for (const field of withStrings) {
      for (const arg of field.args.filter((candidate) => ['String', 'ID'].includes(getNamedType(candidate.type).name))) {
        const query = queryOf(field, { [arg.name]: 'a\u0000b' });
        expectBadUserInput(await post(tenant.token, JSON.stringify({ query })), query);
      }
    }
    const variable = await post(tenant.token, JSON.stringify({ query: 'query($d: String!) { device(deviceId: $d) { deviceId } }', variables: { d: 'x\u0000' } }));
    expectBadUserInput(variable, 'variable');
    expect(variable.body.errors?.[0]?.extensions?.['issues']).toEqual([{ path: ['deviceId'], message: expect.any(String), code: 'NUL_CHARACTER' }]);
  });
});
