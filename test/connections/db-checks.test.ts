import type { TenantSession } from '../../src/db/tenant-session.js';
import { NotFoundError, ValidationError } from '../../src/kernel/errors.js';
import { storeDataUsage, writeDeviceConnection, type ConnectionValues } from '../../src/modules/connections/service.js';
import { afterAll, beforeAll, describe, expect, test } from '../harness/fixtures.js';
import { startTestApp, type TestApp } from '../harness/app.js';
import { registerDevice } from '../connectivity/support.js';

/**
 * The service validates before writing, so these go around it: each value the database's own
 * constraints refuse must still come back as a typed error naming the field, never as "unexpected".
 */
let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(() => app.stop());

/** One transaction of the tenant's customer scope, as a GraphQL mutation would run it. */
const asCustomer = <T>(tenantId: string, work: (session: TenantSession) => Promise<T>) =>
  app.pulse.app.runner.run({ tenantId, role: 'customer', actorId: 'test' }, work);

// Values of the wrong shape on purpose: the type system would (rightly) refuse them.
const raw = (values: Record<string, unknown>) => values as ConnectionValues;

describe('database constraints of device_connections map to typed errors', () => {
  test.for([
    [{ connectionType: 'tape' }, 'connectionType'],
    [{ simStatus: 'stolen' }, 'simStatus'],
    [{ networkStatus: 'sort-of' }, 'networkStatus'],
    [{ dataLimitMb: -1 }, 'dataLimitMb'],
    [{ billingCycleStart: 31 }, 'billingCycleStart'],
    [{ ipAddress: '999.1.1.1' }, 'ipAddress'],
  ] as const)('%j → ValidationError at input.%s', async ([values, field], { tenant }) => {
    await registerDevice(app, tenant.token, 'db');
    const key = { tenantId: tenant.tenantId, deviceId: 'db' };
    const error = await asCustomer(tenant.tenantId, (session) => writeDeviceConnection(session, key, raw(values))).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).issues).toEqual([expect.objectContaining({ path: ['input', field] })]);
  });

  test('negative usage → ValidationError at input.dataUsedMb; a missing device → NotFound', async ({ tenant }) => {
    await registerDevice(app, tenant.token, 'usage');
    const key = { tenantId: tenant.tenantId, deviceId: 'usage' };
    await asCustomer(tenant.tenantId, (session) => writeDeviceConnection(session, key, {}));
    const negative = await asCustomer(tenant.tenantId, (session) => storeDataUsage(session, key, -3, new Date())).catch((caught: unknown) => caught);
    expect(negative).toBeInstanceOf(ValidationError);
    expect((negative as ValidationError).issues[0]?.path).toEqual(['input', 'dataUsedMb']);

    const missing = await asCustomer(tenant.tenantId, (session) => writeDeviceConnection(session, { ...key, deviceId: 'nope' }, {})).catch(
      (caught: unknown) => caught,
    );
    expect(missing).toBeInstanceOf(NotFoundError);
  });
});
