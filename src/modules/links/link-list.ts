/**
 * Pages of links, filtered in SQL (AP, CPE, either side, state, site, group), keyset-paginated by
 * link id. The page's IDs come from one statement; the caller loads those rows with the GraphQL
 * selection in a second one, so nested fields stay one Prisma call.
 */
import { z } from 'zod';
import { Prisma } from '../../generated/prisma/client.js';
import type { TenantScope, TenantSession } from '../../db/tenant-session.js';
import { ValidationError } from '../../kernel/errors.js';
import { idSchema } from '../../kernel/ids.js';
import { parseInput } from '../../kernel/validation.js';
import { findGroup, groupMembershipSql } from '../groups/membership.js';
import { lookupTenant, requireTenant } from '../tenants/service.js';
import { LINK_STATES, type LinkState } from './state-machine.js';

export const linkFilterSchema = z
  .object({
    apDeviceId: idSchema.nullish(),
    cpeDeviceId: idSchema.nullish(),
    /** Either side. */
    deviceId: idSchema.nullish(),
    state: z.array(z.enum(LINK_STATES)).max(LINK_STATES.length).nullish(),
    siteId: idSchema.nullish(),
    groupId: idSchema.nullish(),
    tenantId: idSchema.nullish(),
  })
  .nullish();

export type LinkFilter = NonNullable<z.output<typeof linkFilterSchema>>;

/** The WHERE of a link list, for the caller's scope. Customers see their tenant, operators any (or one). */
export async function linkListCondition(session: TenantSession, scope: TenantScope, rawFilter: unknown): Promise<Prisma.Sql> {
  const filter: LinkFilter = parseInput(linkFilterSchema, rawFilter, ['filter']) ?? {};
  const tenantId = scope.role === 'operator' ? (filter.tenantId ?? null) : requireTenant(scope);
  const terms: Prisma.Sql[] = [];
  if (tenantId) terms.push(Prisma.sql`l.tenant_id = ${tenantId}`);
  if (filter.apDeviceId) terms.push(Prisma.sql`l.ap_device_id = ${filter.apDeviceId}`);
  if (filter.cpeDeviceId) terms.push(Prisma.sql`l.cpe_device_id = ${filter.cpeDeviceId}`);
  if (filter.deviceId) terms.push(Prisma.sql`(l.ap_device_id = ${filter.deviceId} OR l.cpe_device_id = ${filter.deviceId})`);
  if (filter.state?.length) terms.push(Prisma.sql`l.state = ANY(${filter.state}::text[])`);
  const eitherSide = (condition: Prisma.Sql) =>
    Prisma.sql`EXISTS (SELECT 1 FROM device_registry d WHERE d.tenant_id = l.tenant_id
      AND (d.device_id = l.ap_device_id OR d.device_id = l.cpe_device_id) AND ${condition})`;
  if (filter.siteId) terms.push(eitherSide(Prisma.sql`d.site_id = ${filter.siteId}`));
  if (filter.groupId) {
    const group = await findGroup(session, lookupTenant(scope, filter.tenantId), filter.groupId);
    terms.push(Prisma.sql`l.tenant_id = ${group.tenantId}`);
    terms.push(eitherSide(Prisma.sql`d.decommissioned_at IS NULL AND ${await groupMembershipSql(session, group, Prisma.raw('d'))}`));
  }
  return terms.length ? Prisma.join(terms, ' AND ') : Prisma.sql`TRUE`;
}


const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function cursorId(cursor: string | undefined, arg: 'after' | 'before'): string | undefined {
  if (cursor === undefined) return undefined;
  if (!UUID.test(cursor)) throw ValidationError.single([arg], 'is not a cursor of this list', 'INVALID_FORMAT');
  return cursor;
}

/** One page of link IDs in id order (reversed when paginating backwards, as resolveCursorConnection expects). */
export async function linkPageIds(
  session: TenantSession,
  condition: Prisma.Sql,
  page: { after?: string; before?: string; limit: number; inverted: boolean },
): Promise<string[]> {
  const after = cursorId(page.after, 'after');
  const before = cursorId(page.before, 'before');
  const rows = await session.db.$queryRaw<Array<{ id: string }>>`
    SELECT l.id FROM wireless_links l
    WHERE ${condition}
      ${after ? Prisma.sql`AND l.id > ${after}::uuid` : Prisma.empty}
      ${before ? Prisma.sql`AND l.id < ${before}::uuid` : Prisma.empty}
    ORDER BY l.id ${page.inverted ? Prisma.sql`DESC` : Prisma.sql`ASC`}
    LIMIT ${page.limit}`;
  return rows.map((row) => row.id);
}

export async function countLinks(session: TenantSession, condition: Prisma.Sql): Promise<number> {
  const [row] = await session.db.$queryRaw<Array<{ count: number }>>`SELECT count(*)::int AS count FROM wireless_links l WHERE ${condition}`;
  return row?.count ?? 0;
}

export interface DeviceLinkPage {
  ids: string[];
  total: number;
}

/**
 * The same page of links (as AP or CPE, optionally in some states) for many devices of one tenant
 * in one statement: `Device.wirelessLinks` on a page of N devices costs one statement, not N.
 */
export async function deviceLinkPages(
  session: TenantSession,
  tenantId: string,
  deviceIds: readonly string[],
  states: readonly LinkState[] | null | undefined,
  page: { after?: string; before?: string; limit: number; inverted: boolean },
): Promise<Map<string, DeviceLinkPage>> {
  const after = cursorId(page.after, 'after');
  const before = cursorId(page.before, 'before');
  const rows = await session.db.$queryRaw<Array<{ device_id: string; id: string | null; total: number }>>`
    WITH d AS (SELECT DISTINCT device_id FROM unnest(${[...deviceIds]}::text[]) AS u(device_id)),
    matching AS (
      SELECT d.device_id, l.id FROM d
      JOIN wireless_links l ON l.tenant_id = ${tenantId} AND (l.ap_device_id = d.device_id OR l.cpe_device_id = d.device_id)
      ${states?.length ? Prisma.sql`WHERE l.state = ANY(${[...states]}::text[])` : Prisma.empty}
    ),
    totals AS (SELECT device_id, count(*)::int AS total FROM matching GROUP BY device_id),
    ranked AS (
      SELECT device_id, id, row_number() OVER (PARTITION BY device_id ORDER BY id ${page.inverted ? Prisma.sql`DESC` : Prisma.sql`ASC`}) AS rank
      FROM matching
      WHERE TRUE ${after ? Prisma.sql`AND id > ${after}::uuid` : Prisma.empty} ${before ? Prisma.sql`AND id < ${before}::uuid` : Prisma.empty}
    )
    SELECT t.device_id, r.id, t.total FROM totals t
    LEFT JOIN ranked r ON r.device_id = t.device_id AND r.rank <= ${page.limit}
    ORDER BY t.device_id, r.rank`;
  const pages = new Map<string, DeviceLinkPage>();
  for (const row of rows) {
    const entry = pages.get(row.device_id) ?? { ids: [], total: row.total };
    if (row.id !== null) entry.ids.push(row.id);
    pages.set(row.device_id, entry);
  }
  return pages;
}
