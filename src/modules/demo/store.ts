import type { Database } from '../../db/database.js';

/**
 * Deletes a tenant and, by the schema's cascades, everything it owns (devices and their history,
 * sites, groups, rules, alerts, commands, telemetry). It runs on the owner connection, outside
 * any tenant transaction: only the demo reset calls it, on the embedded default, where that
 * connection is PGlite's superuser. The application role may not delete tenants.
 */
export async function deleteTenant(database: Database, tenantId: string): Promise<boolean> {
  const deleted = await database.prisma.$executeRaw`DELETE FROM tenants WHERE tenant_id = ${tenantId}`;
  return deleted > 0;
}
