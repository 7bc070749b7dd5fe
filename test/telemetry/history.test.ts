import { startTestApp, type TestApp } from '../harness/app.js';
import { afterAll, beforeAll, describe, expect, test } from '../harness/fixtures.js';
import { closeClients, gqlData, HISTORY, registerDevices, seedStaticGroup, telemetryPublisher, type Bucket } from './support.js';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(async () => {
  await closeClients();
  await app.stop();
});

const HOUR = 3_600_000;
/** A whole UTC hour two hours back: inside the accepted window, and minute-aligned. */
const base = Math.floor(Date.now() / HOUR) * HOUR - 2 * HOUR;
const iso = (offsetSeconds: number) => new Date(base + offsetSeconds * 1000).toISOString();

async function history(token: string, variables: Record<string, unknown>): Promise<Bucket[]> {
  const data = await gqlData<{ device: { telemetryHistory: Bucket[] } }>(app, token, HISTORY, variables);
  return data.device.telemetryHistory;
}

describe('Device.telemetryHistory', () => {
  // v: 1, 5, 3 in the first minute, 10 in the second, -2 in the third; `on` is a boolean, `mode` text.
  const seed = async (token: string, tenantId: string) => {
    await registerDevices(app, token, ['h1']);
    const device = await telemetryPublisher(app, tenantId);
    const outcome = await device.send('h1', [
      { ts: base, metrics: { v: 1, on: true, mode: 'eco' } },
      { ts: base + 20_000, metrics: { v: 5, on: false } },
      { ts: base + 40_000, metrics: { v: 3 } },
      { ts: base + 70_000, metrics: { v: 10, on: true } },
      { ts: base + 130_000, metrics: { v: -2 } },
    ]);
    expect(outcome).toEqual({ status: 'applied' });
  };

  test.for<[string, number[], number[]]>([
    ['AVG', [3, 10, -2], [3, 1, 1]],
    ['MIN', [1, 10, -2], [3, 1, 1]],
    ['MAX', [5, 10, -2], [3, 1, 1]],
    ['SUM', [9, 10, -2], [3, 1, 1]],
    ['COUNT', [3, 1, 1], [3, 1, 1]],
    ['FIRST', [1, 10, -2], [3, 1, 1]],
    ['LAST', [3, 10, -2], [3, 1, 1]],
  ])('%s over 1-minute buckets', async ([aggregate, values, counts], { tenant }) => {
    await seed(tenant.token, tenant.tenantId);
    const buckets = await history(tenant.token, { deviceId: 'h1', metric: 'v', from: iso(0), to: iso(180), bucket: '1 minute', aggregate });
    expect(buckets).toEqual([
      { startAt: iso(0), endAt: iso(60), value: values[0], count: counts[0] },
      { startAt: iso(60), endAt: iso(120), value: values[1], count: counts[1] },
      { startAt: iso(120), endAt: iso(180), value: values[2], count: counts[2] },
    ]);
  });

  test('from is inclusive, to exclusive; buckets align to the epoch, not to from; empty buckets are left out', async ({ tenant }) => {
    await seed(tenant.token, tenant.tenantId);
    const buckets = await history(tenant.token, { deviceId: 'h1', metric: 'v', from: iso(20), to: iso(130), bucket: '1 minute', aggregate: 'AVG' });
    expect(buckets).toEqual([
      { startAt: iso(0), endAt: iso(60), value: 4, count: 2 },
      { startAt: iso(60), endAt: iso(120), value: 10, count: 1 },
    ]);
    const hourly = await history(tenant.token, { deviceId: 'h1', metric: 'v', from: iso(-3600), to: iso(7200), bucket: '1 hour', aggregate: 'SUM' });
    expect(hourly).toEqual([{ startAt: iso(0), endAt: iso(3600), value: 17, count: 5 }]);
  });

  test('booleans aggregate as 1/0; text counts but has no numeric aggregate', async ({ tenant }) => {
    await seed(tenant.token, tenant.tenantId);
    const window = { deviceId: 'h1', from: iso(0), to: iso(180), bucket: '1 minute' };
    expect(await history(tenant.token, { ...window, metric: 'on', aggregate: 'AVG' })).toMatchObject([
      { value: 0.5, count: 2 },
      { value: 1, count: 1 },
    ]);
    expect(await history(tenant.token, { ...window, metric: 'mode', aggregate: 'COUNT' })).toMatchObject([{ value: 1, count: 1 }]);
    expect(await history(tenant.token, { ...window, metric: 'mode', aggregate: 'MAX' })).toEqual([]);
  });

  test.for<[string, Record<string, unknown>, string]>([
    ['too many buckets', { bucket: '1 second', from: iso(0), to: iso(86_400) }, 'bucket'],
    ['a month bucket', { bucket: '1 month' }, 'bucket'],
    ['to before from', { from: iso(60), to: iso(0) }, 'to'],
    ['a bad metric name', { metric: 'no spaces' }, 'metric'],
  ])('refuses %s with a typed validation error', async ([, patch, path], { tenant }) => {
    await registerDevices(app, tenant.token, ['h1']);
    const result = await app.gql(tenant.token, HISTORY, { deviceId: 'h1', metric: 'v', from: iso(0), to: iso(180), bucket: '1 minute', aggregate: 'AVG', ...patch });
    expect(result.errors?.[0]?.extensions).toMatchObject({ code: 'VALIDATION_FAILED', issues: [{ path: [path] }] });
  });
});

const GROUP_TELEMETRY = /* GraphQL */ `
  query Group($groupId: String!, $aggregate: TelemetryAggregate!, $from: DateTime!, $to: DateTime!) {
    groupTelemetry(groupId: $groupId, metric: "v", from: $from, to: $to, bucket: "1 minute", aggregate: $aggregate) { startAt value count }
  }`;

describe('groupTelemetry', () => {
  test('aggregates across the current members only; another tenant cannot read the group', async ({ tenant, otherTenant }) => {
    await registerDevices(app, tenant.token, ['g1', 'g2', 'outsider']);
    const device = await telemetryPublisher(app, tenant.tenantId);
    await device.send('g1', [{ ts: base + 10_000, metrics: { v: 1 } }, { ts: base + 30_000, metrics: { v: 2 } }, { ts: base + 61_000, metrics: { v: 7 } }]);
    await device.send('g2', [{ ts: base + 5_000, metrics: { v: 3 } }]);
    await device.send('outsider', [{ ts: base + 1_000, metrics: { v: 100 } }]);
    const groupId = await seedStaticGroup(app, tenant.tenantId, ['g1', 'g2']);
    const variables = { groupId, from: iso(0), to: iso(120) };
    const run = async (aggregate: string) =>
      (await gqlData<{ groupTelemetry: Array<{ startAt: string; value: number; count: number }> }>(app, tenant.token, GROUP_TELEMETRY, { ...variables, aggregate })).groupTelemetry;
    expect(await run('AVG')).toEqual([
      { startAt: iso(0), value: 2, count: 3 },
      { startAt: iso(60), value: 7, count: 1 },
    ]);
    expect((await run('FIRST'))[0]).toMatchObject({ value: 3 });
    expect((await run('MAX'))[0]).toMatchObject({ value: 3 });

    const foreign = await app.gql(otherTenant.token, GROUP_TELEMETRY, { ...variables, aggregate: 'AVG' });
    expect(foreign.errors?.[0]?.extensions).toMatchObject({ code: 'NOT_FOUND' });
  });
});
