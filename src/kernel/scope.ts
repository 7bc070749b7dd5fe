/** Who may call Pulse: customers (one tenant), operators (read every tenant), the IoT service (the server's own work). */
export const ROLES = ['customer', 'operator', 'iot_service'] as const;
export type Role = (typeof ROLES)[number];

/** Who a transaction acts for. `tenantId` null means "no tenant": RLS then shows nothing. */
export interface TenantScope {
  tenantId: string | null;
  role: Role;
  /** The JWT `sub`, the device id, or a worker name: recorded as the actor of writes. */
  actorId: string | null;
}

/**
 * The server's own cross-tenant scope (MQTT ingest, workers, broker logins): the RLS service
 * policy applies, never a GraphQL caller's. `actorId` names the component in audit columns.
 */
export function serviceScope(actorId: string): TenantScope {
  return { tenantId: null, role: 'iot_service', actorId };
}
