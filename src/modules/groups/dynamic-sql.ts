import { Prisma } from '../../generated/prisma/client.js';

/**
 * The SQL condition of a dynamic group's stored filter over `device_registry` aliased `alias`.
 * Until the filter language lands (issue 8) no stored filter is accepted, so none matches.
 */
export function dynamicMembershipSql(_queryFilter: unknown, _alias: Prisma.Sql): Prisma.Sql {
  return Prisma.sql`FALSE`;
}
