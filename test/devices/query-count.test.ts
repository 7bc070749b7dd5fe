import { getNamedType, isLeafType, isObjectType, isNonNullType, type GraphQLField, type GraphQLObjectType } from 'graphql';
import { afterAll, beforeAll, describe, expect, test } from '../harness/fixtures.js';
import { startTestApp, type TestApp } from '../harness/app.js';
import { REGISTER_DEVICE } from '../harness/operations.js';

/**
 * Every SQL statement Prisma sends, per operation: a nested selection must cost the same number
 * of statements for 3 devices as for 30 (no N+1), and the number is pinned so a regression shows.
 */
let app: TestApp;
let statements: string[] = [];
beforeAll(async () => {
  app = await startTestApp({}, { autoStartWorkers: false, onQuery: (sql) => statements.push(sql) });
});
afterAll(() => app.stop());

const PAGE = `query($first: Int) { devices(first: $first) { totalCount edges { node { deviceId name status lastSeenAt tags { key value } site { name } } } } }`;

/** Values for required arguments of Device fields; a new required argument must be added here. */
const REQUIRED_ARGUMENTS: Record<string, string> = {
  metric: '"temperature"',
  metrics: '["temperature"]',
  from: '"2026-01-01T00:00:00Z"',
  to: '"2026-01-02T00:00:00Z"',
  bucket: '"1 hour"',
  aggregate: 'AVG',
};

/**
 * A selection of every field of `type`, nested objects included (leaves only below `depth`), with
 * required arguments from {@link REQUIRED_ARGUMENTS}: new `Device` fields of any module are covered
 * without editing this test.
 */
function selectAll(type: GraphQLObjectType, depth: number, seen: Set<string> = new Set()): string {
  const parts: string[] = [];
  for (const field of Object.values(type.getFields()) as GraphQLField<unknown, unknown>[]) {
    const required = field.args.filter((arg) => isNonNullType(arg.type) && arg.defaultValue === undefined);
    const missing = required.find((arg) => !(arg.name in REQUIRED_ARGUMENTS));
    if (missing) throw new Error(`Device field ${type.name}.${field.name} needs a value for ${missing.name} in REQUIRED_ARGUMENTS`);
    const args = required.length ? `(${required.map((arg) => `${arg.name}: ${REQUIRED_ARGUMENTS[arg.name]}`).join(', ')})` : '';
    const named = getNamedType(field.type);
    if (isLeafType(named)) parts.push(`${field.name}${args}`);
    else if (isObjectType(named) && depth > 0 && !seen.has(named.name)) {
      const inner = selectAll(named, depth - 1, new Set([...seen, type.name]));
      if (inner) parts.push(`${field.name}${args} { ${inner} }`);
    } else if (!isObjectType(named)) parts.push(`${field.name}${args} { __typename }`);
  }
  return parts.join(' ');
}

async function statementsFor(token: string, query: string, first: number): Promise<string[]> {
  statements = [];
  const result = await app.gql<{ devices: { edges: unknown[] } }>(token, query, { first });
  expect(result.errors).toBeUndefined();
  expect(result.data?.devices.edges).toHaveLength(first);
  return statements.filter((sql) => !/^(BEGIN|COMMIT|ROLLBACK)/i.test(sql.trim()));
}

describe('query count', () => {
  test('a page of devices with tags, site and state costs a constant number of statements', async ({ tenant }) => {
    await app.gql(tenant.token, `mutation { createSite(input: { siteId: "s1", name: "Site" }) { __typename } }`);
    for (let index = 0; index < 30; index += 1) {
      await app.gql(tenant.token, REGISTER_DEVICE, { input: { deviceId: `q-${String(index).padStart(2, '0')}`, name: `q${index}`, siteId: 's1', tags: [{ key: 'k', value: `${index}` }] } });
    }
    // Registrations start membership reactions; their statements must not land in the window measured.
    await app.pulse.app.reactions.idle();
    const small = await statementsFor(tenant.token, PAGE, 3);
    const large = await statementsFor(tenant.token, PAGE, 30);
    expect(large.length).toBe(small.length);
    // set_config; the page's keys (the filter in SQL); its rows with state, tags and site in one
    // statement (relation joins); the count.
    expect(small).toHaveLength(4);

    // Every Device field of every module, two levels deep: still the same count for 3 and 30.
    const device = app.pulse.app.modules.schema.getType('Device') as GraphQLObjectType;
    const everything = `query($first: Int) { devices(first: $first) { totalCount edges { node { ${selectAll(device, 2)} } } } }`;
    const allSmall = await statementsFor(tenant.token, everything, 3);
    const allLarge = await statementsFor(tenant.token, everything, 30);
    if (allLarge.length !== allSmall.length) {
      const counts = new Map<string, number>();
      for (const sql of allLarge) counts.set(sql.slice(0, 160), (counts.get(sql.slice(0, 160)) ?? 0) + 1);
      throw new Error(`N+1 in a Device field:\n${[...counts].filter(([, n]) => n > 1).map(([sql, n]) => `${n}× ${sql}`).join('\n')}`);
    }
  });
});
