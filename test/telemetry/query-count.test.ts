import { serviceScope } from '../../src/kernel/scope.js';
import { ingestTelemetry } from '../../src/modules/telemetry/ingest.js';
import { startTestApp, type TestApp } from '../harness/app.js';
import { afterAll, beforeAll, describe, expect, test } from '../harness/fixtures.js';
import { registerDevices } from './support.js';

/** Latest values join into the device page's own statement: 3 devices cost what 20 cost. */
let app: TestApp;
let statements: string[] = [];
beforeAll(async () => {
  // The resolver path (Prisma's joined relations) is what this counts: the plain page alone would
  // otherwise be a compiled read (graphql/compiled-reads.ts), one statement whatever it selects.
  app = await startTestApp({ GRAPHQL_COMPILED_READS: 'false' }, { autoStartWorkers: false, onQuery: (sql) => statements.push(sql) });
});
afterAll(() => app.stop());

const PAGE = /* GraphQL */ `
  query($first: Int) {
    devices(first: $first) { totalCount edges { node { deviceId status telemetry { latest(metrics: ["t", "h"]) { metric value ts } } } } }
  }`;
const PLAIN_PAGE = /* GraphQL */ `query($first: Int) { devices(first: $first) { totalCount edges { node { deviceId status } } } }`;

async function statementsFor(token: string, first: number, query = PAGE): Promise<string[]> {
  // Reactions to the seeding (devices coming ONLINE) run after commit: let them finish first.
  await app.pulse.app.reactions.idle();
  statements = [];
  const result = await app.gql<{ devices: { edges: Array<{ node: { telemetry?: { latest: unknown[] } } }> } }>(token, query, { first });
  expect(result.errors).toBeUndefined();
  expect(result.data?.devices.edges).toHaveLength(first);
  if (query === PAGE) expect(result.data?.devices.edges.every((edge) => edge.node.telemetry?.latest.length === 2)).toBe(true);
  return statements.filter((sql) => !/^(BEGIN|COMMIT|ROLLBACK)/i.test(sql.trim()));
}

describe('query count', () => {
  test('a page of devices with their latest values costs no statement more than the page alone', async ({ tenant }) => {
    const deviceIds = Array.from({ length: 20 }, (_, i) => `lq-${String(i).padStart(2, '0')}`);
    await registerDevices(app, tenant.token, deviceIds);
    const receivedAt = new Date();
    await app.pulse.app.runner.run(serviceScope('test'), (session) =>
      ingestTelemetry(
        session,
        app.pulse.app.services,
        deviceIds.map((deviceId) => ({
          kind: 'telemetry' as const,
          tenantId: tenant.tenantId,
          deviceId,
          params: {},
          payload: [{ metrics: { t: 20, h: 40, other: 1 } }],
          receivedAt,
          redelivered: false,
        })),
      ),
    );
    const small = await statementsFor(tenant.token, 3);
    const large = await statementsFor(tenant.token, 20);
    expect(large.length).toBe(small.length);
    // Latest values add no statement to the page: they come back in the device rows' own statement.
    expect(small.length).toBe((await statementsFor(tenant.token, 3, PLAIN_PAGE)).length);
    expect(small.filter((sql) => sql.includes('telemetry_latest'))).toHaveLength(1);
  });
});
