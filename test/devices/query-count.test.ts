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

async function statementsFor(token: string, first: number): Promise<string[]> {
  statements = [];
  const result = await app.gql<{ devices: { edges: unknown[] } }>(token, PAGE, { first });
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
    const small = await statementsFor(tenant.token, 3);
    const large = await statementsFor(tenant.token, 30);
    expect(large.length).toBe(small.length);
    // set_config; the page with state, tags and site in one statement (relation joins); the count.
    expect(small).toHaveLength(3);
  });
});
