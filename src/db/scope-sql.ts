/**
 * The statement that scopes a tenant transaction, as text: the runner sends it first, and the
 * pg pool (scoped-pool.ts) recognises it by this exact text to send it with the next statement.
 * Every setting is transaction-local (`is_local = true`), so nothing outlives the transaction.
 */
import type { TenantScope } from '../kernel/scope.js';

/**
 * Tenant, role and actor, for a connection whose login role is itself bound by RLS. The last value,
 * `app.transaction`, names the transaction in this process: the pool finds the connection of a
 * runner's transaction by it (scoped-pool.ts), for statements sent past Prisma. No policy reads it.
 */
export const SCOPE_SQL =
  "SELECT set_config('app.tenant_id', $1, true), set_config('app.role', $2, true), set_config('app.actor', $3, true), set_config('app.transaction', $4, true)";

/**
 * The same, switching first to the RLS-bound role: `set_config('role', …)` is SET LOCAL ROLE in
 * the same round trip, for a connection whose own identity would bypass RLS.
 */
export const SCOPE_WITH_ROLE_SQL =
  "SELECT set_config('role', $1, true), set_config('app.tenant_id', $2, true), set_config('app.role', $3, true), set_config('app.actor', $4, true), set_config('app.transaction', $5, true)";

/**
 * The statement and its values for `scope`; `assumeRole` when the connection must switch role;
 * `transaction` the runner's name for the transaction ('' when nothing will look it up).
 */
export function scopeQuery(scope: TenantScope, assumeRole: string | null, transaction = ''): { text: string; values: string[] } {
  const tenant = scope.tenantId ?? '';
  const actor = scope.actorId ?? '';
  return assumeRole
    ? { text: SCOPE_WITH_ROLE_SQL, values: [assumeRole, tenant, scope.role, actor, transaction] }
    : { text: SCOPE_SQL, values: [tenant, scope.role, actor, transaction] };
}
