import type { Principal } from '../auth/jwt.js';
import type { SessionRunner, TenantScope, TenantSession } from '../db/tenant-session.js';
import type { EventBus } from '../events/pubsub.js';
import type { Logger } from '../logger.js';
import type { AppServices } from '../services.js';

/** What every resolver receives. Built per request (HTTP) or per subscription (WebSocket). */
export interface GraphQLContext {
  principal: Principal;
  scope: TenantScope;
  /**
   * The tenant transaction of the current operation. For queries and mutations it is the one
   * transaction the operation runs in; while resolving subscription events it is a client that
   * scopes each query on its own (no transaction may stay open for a subscription's lifetime).
   */
  session: TenantSession;
  runner: SessionRunner;
  events: EventBus;
  services: AppServices;
  logger: Logger;
  /**
   * Set when the operation's only mutation field answered with a typed error: its transaction is
   * rolled back instead of committed (see graphql/mutation-savepoints.ts).
   */
  rollbackRequested?: boolean;
}

/**
 * A caller's scope: always its token's tenant, whatever its role. The database holds the bound:
 * the service RLS policy (`app_service_scope()`, migration 20261201140000_hardening) opens other
 * tenants' rows to `iot_service` only with no tenant in scope, which only the server's own
 * `serviceScope()` work has; only `operator` reads across tenants (its own read policy).
 */
export function scopeOf(principal: Principal): TenantScope {
  return { tenantId: principal.tenantId, role: principal.role, actorId: principal.subject };
}
