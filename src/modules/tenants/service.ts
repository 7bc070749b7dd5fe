import { ForbiddenError } from '../../kernel/errors.js';
import type { TenantScope, TenantSession } from '../../db/tenant-session.js';

/** The tenant a read or write lands in: always the caller's own. */
export function requireTenant(scope: TenantScope): string {
  if (!scope.tenantId) throw new ForbiddenError('This operation needs a tenant');
  return scope.tenantId;
}

/** Writes are for customers and the IoT service; operators have read-only access across tenants. */
export function requireWriter(scope: TenantScope): string {
  if (scope.role === 'operator') throw new ForbiddenError('Operators have read-only access');
  return requireTenant(scope);
}

/** The tenant a single-record lookup reads from: the caller's, or for operators an explicit one. */
export function lookupTenant(scope: TenantScope, requestedTenantId: string | null | undefined): string {
  if (requestedTenantId && scope.role === 'operator') return requestedTenantId;
  return requireTenant(scope);
}

/**
 * Creates the tenant row on first write: tokens are the source of truth for tenants, so a newly
 * issued tenant can register devices without a separate provisioning step.
 */
export async function ensureTenant(session: TenantSession, tenantId: string): Promise<void> {
  await session.db.$executeRaw`INSERT INTO tenants (tenant_id, name) VALUES (${tenantId}, ${tenantId}) ON CONFLICT (tenant_id) DO NOTHING`;
}
