import { afterAll, beforeAll, describe, expect, test } from '../harness/fixtures.js';
import { startTestApp, type TestApp } from '../harness/app.js';
import { readHistory, readTwin, registerDevice, writeDesired, type DesiredResult } from './helpers.js';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(() => app.stop());

/**
 * One client's optimistic loop: read the version, write with expectedVersion, and on a conflict
 * start over from a fresh read. Returns every result it saw, the accepted one last.
 */
async function writeWithRetry(token: string, deviceId: string, makePatch: (desired: Record<string, unknown>) => Record<string, unknown>) {
  const seen: DesiredResult[] = [];
  for (let attempt = 0; attempt < 200; attempt += 1) {
    const twin = (await readTwin(app, token, deviceId))!;
    const result = await writeDesired(app, token, { deviceId, desired: makePatch(twin.desired), expectedVersion: twin.desiredVersion });
    seen.push(result);
    if (result.__typename === 'UpdateDeviceTwinDesiredPayload') return seen;
    expect(result.__typename).toBe('TwinVersionConflict');
  }
  throw new Error('no progress after 200 attempts');
}

describe('concurrent desired writers', () => {
  test('64 writers with expectedVersion: every accepted write is in the document, the version and the history', async ({ tenant }) => {
    await registerDevice(app, tenant.token, 'hot');
    const writers = Array.from({ length: 64 }, (_, index) => `writer${index}`);
    const outcomes = await Promise.all(writers.map((key) => writeWithRetry(tenant.token, 'hot', () => ({ [key]: true }))));

    const accepted = outcomes.map((seen) => seen.at(-1)!);
    expect(accepted.every((result) => result.__typename === 'UpdateDeviceTwinDesiredPayload')).toBe(true);
    // Each accepted write created its own version: 1..64, none twice.
    expect(accepted.map((result) => result['desiredVersion']).sort((x, y) => Number(x) - Number(y))).toEqual(writers.map((_, index) => index + 1));
    const twin = (await readTwin(app, tenant.token, 'hot'))!;
    expect(twin.desiredVersion).toBe(64);
    expect(Object.keys(twin.desired).sort()).toEqual([...writers].sort());
    const history = await readHistory(app, tenant.token, { deviceId: 'hot', direction: 'DESIRED', first: 100 });
    expect(history.totalCount).toBe(64);
    expect(history.edges.map((edge) => edge.node.version)).toEqual(writers.map((_, index) => 64 - index));
    expect(history.edges[0]!.node.document).toEqual(twin.desired);
  });

  test('writers contending on one counter: conflicts are retried and no increment is lost', async ({ tenant }) => {
    await registerDevice(app, tenant.token, 'counter');
    const writers = 16;
    const outcomes = await Promise.all(
      Array.from({ length: writers }, () => writeWithRetry(tenant.token, 'counter', (desired) => ({ count: Number(desired['count'] ?? 0) + 1 }))),
    );
    const conflicts = outcomes.flat().filter((result) => result.__typename === 'TwinVersionConflict');
    for (const conflict of conflicts) expect(conflict['conflictingPaths']).toEqual(['count']);
    const twin = (await readTwin(app, tenant.token, 'counter'))!;
    expect(twin.desired).toEqual({ count: writers });
    expect(twin.desiredVersion).toBe(writers);
    expect((await readHistory(app, tenant.token, { deviceId: 'counter' })).totalCount).toBe(writers);
  });

  test('unconditional merges serialise on the row: none is lost', async ({ tenant }) => {
    await registerDevice(app, tenant.token, 'blind');
    const keys = Array.from({ length: 32 }, (_, index) => `k${index}`);
    const results = await Promise.all(keys.map((key) => writeDesired(app, tenant.token, { deviceId: 'blind', desired: { [key]: 1 } })));
    expect(new Set(results.map((result) => result['desiredVersion'])).size).toBe(32);
    const twin = (await readTwin(app, tenant.token, 'blind'))!;
    expect(twin.desiredVersion).toBe(32);
    expect(Object.keys(twin.desired).sort()).toEqual([...keys].sort());
  });
});
