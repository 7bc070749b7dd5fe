import { test as base } from 'vitest';
import { tokenFor } from './app.js';
import { uniqueName } from './postgres.js';

export interface TenantFixture {
  tenantId: string;
  /** Customer token of this tenant. */
  token: string;
  operatorToken: string;
  serviceToken: string;
}

async function newTenant(): Promise<TenantFixture> {
  const tenantId = uniqueName('t').replace(/_/g, '-');
  return {
    tenantId,
    token: await tokenFor(tenantId, 'customer'),
    operatorToken: await tokenFor(tenantId, 'operator'),
    serviceToken: await tokenFor(tenantId, 'iot_service'),
  };
}

/** Each test gets its own tenants with unique IDs, so tests run concurrently and clean up nothing. */
export const test = base.extend<{ tenant: TenantFixture; otherTenant: TenantFixture }>({
  // eslint-disable-next-line no-empty-pattern
  tenant: async ({}, use) => use(await newTenant()),
  // eslint-disable-next-line no-empty-pattern
  otherTenant: async ({}, use) => use(await newTenant()),
});

export { expect, describe, beforeAll, afterAll } from 'vitest';
