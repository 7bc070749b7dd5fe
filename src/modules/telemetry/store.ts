/**
 * The telemetry SQL: samples (`telemetry`, partitioned by day), latest values
 * (`telemetry_latest`), bucketed history, retention and partition maintenance. Set-based: one
 * statement per table per batch. Rows are addressed by tenant explicitly, so the statements serve
 * customer sessions (RLS pins the tenant) and the service role alike.
 */
import { Prisma } from '../../generated/prisma/client.js';
import type { TenantSession } from '../../db/tenant-session.js';
import { sampleKey, valueColumns, type Sample } from './samples.js';

type StoredKey = { tenant_id: string; device_id: string; metric: string; time: Date };

/**
 * Appends samples and moves the latest values forward, in one statement: a multi-row INSERT, and
 * an upsert of each (device, metric)'s newest inserted sample into `telemetry_latest` (a late,
 * older sample leaves the latest as it is). A sample already stored (same device, metric and
 * time: a redelivery, or a second instance applying the same message) is skipped. Returns the
 * samples actually inserted. Rows go in key order, so two transactions inserting overlapping
 * sets wait for each other instead of deadlocking.
 */
export async function storeSamples(session: TenantSession, samples: readonly Sample[]): Promise<Sample[]> {
  if (samples.length === 0) return [];
  const sorted = [...samples].sort(compareSamples);
  const values = sorted.map((sample) => valueColumns(sample.value));
  const rows = await session.db.$queryRaw<StoredKey[]>`
    WITH inserted AS (
      INSERT INTO telemetry (tenant_id, device_id, metric, time, value_num, value_bool, value_text)
      SELECT * FROM unnest(
        ${sorted.map((s) => s.tenantId)}::text[], ${sorted.map((s) => s.deviceId)}::text[], ${sorted.map((s) => s.metric)}::text[],
        ${sorted.map((s) => s.time.toISOString())}::text[]::timestamptz[],
        ${values.map((v) => v.num)}::float8[], ${values.map((v) => v.bool)}::boolean[], ${values.map((v) => v.text)}::text[])
      ON CONFLICT DO NOTHING
      RETURNING tenant_id, device_id, metric, time, value_num, value_bool, value_text
    ),
    latest AS (
      INSERT INTO telemetry_latest AS l (tenant_id, device_id, metric, time, value_num, value_bool, value_text)
      SELECT DISTINCT ON (tenant_id, device_id, metric) tenant_id, device_id, metric, time, value_num, value_bool, value_text
      FROM inserted ORDER BY tenant_id, device_id, metric, time DESC
      ON CONFLICT (tenant_id, device_id, metric) DO UPDATE
        SET time = EXCLUDED.time, value_num = EXCLUDED.value_num, value_bool = EXCLUDED.value_bool,
            value_text = EXCLUDED.value_text, updated_at = now()
        WHERE l.time < EXCLUDED.time
    )
    SELECT tenant_id, device_id, metric, time FROM inserted`;
  const inserted = new Set(rows.map((row) => sampleKey({ tenantId: row.tenant_id, deviceId: row.device_id, metric: row.metric, time: row.time })));
  return sorted.filter((sample) => inserted.delete(sampleKey(sample)));
}

function compareSamples(a: Sample, b: Sample): number {
  return (
    compare(a.tenantId, b.tenantId) || compare(a.deviceId, b.deviceId) || compare(a.metric, b.metric) || a.time.getTime() - b.time.getTime()
  );
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

// ---------------------------------------------------------------------------------------------
// History
// ---------------------------------------------------------------------------------------------

export type Aggregate = 'avg' | 'min' | 'max' | 'sum' | 'count' | 'first' | 'last';

/**
 * Each aggregate over `v` (the numeric value) of a bucket's samples. FIRST/LAST take the value at
 * the earliest/latest time: the minimum of `[epoch, v]` pairs compares time first, without
 * collecting the bucket into an array.
 */
const AGGREGATES: Record<Aggregate, Prisma.Sql> = {
  avg: Prisma.sql`avg(v)`,
  min: Prisma.sql`min(v)`,
  max: Prisma.sql`max(v)`,
  sum: Prisma.sql`sum(v)`,
  count: Prisma.sql`count(*)::float8`,
  first: Prisma.sql`(min(ARRAY[extract(epoch FROM time)::float8, v]))[2]`,
  last: Prisma.sql`(max(ARRAY[extract(epoch FROM time)::float8, v]))[2]`,
};

export interface HistoryQuery {
  tenantId: string;
  metric: string;
  from: Date;
  to: Date;
  bucketSeconds: number;
  aggregate: Aggregate;
}

export interface BucketRow {
  bucket: Date;
  value: number | null;
  count: number;
}

/**
 * Buckets aligned to the Unix epoch (UTC): `date_bin(bucket, time, epoch)`. Only buckets with
 * samples are returned. Text samples count for COUNT only; booleans are 1/0.
 */
function historySql(query: HistoryQuery, source: Prisma.Sql, where: Prisma.Sql, groupBy?: Prisma.Sql): Prisma.Sql {
  const numericOnly = query.aggregate === 'count' ? Prisma.empty : Prisma.sql`AND (t.value_num IS NOT NULL OR t.value_bool IS NOT NULL)`;
  const key = groupBy ? Prisma.sql`${groupBy} AS device_id,` : Prisma.empty;
  return Prisma.sql`
    SELECT ${groupBy ? Prisma.sql`device_id,` : Prisma.empty}
           date_bin(make_interval(secs => ${query.bucketSeconds}::float8), time, TIMESTAMPTZ '1970-01-01 00:00:00+00') AS bucket,
           ${AGGREGATES[query.aggregate]}::float8 AS value, count(*)::int AS count
    FROM (
      SELECT ${key} t.time, COALESCE(t.value_num, t.value_bool::int::float8) AS v
      FROM ${source}
      WHERE t.tenant_id = ${query.tenantId} AND t.metric = ${query.metric}
        AND t.time >= ${query.from}::timestamptz AND t.time < ${query.to}::timestamptz ${numericOnly} AND ${where}
    ) s
    GROUP BY ${groupBy ? Prisma.sql`device_id, ` : Prisma.empty}bucket ORDER BY ${groupBy ? Prisma.sql`device_id, ` : Prisma.empty}bucket`;
}

/** Devices' metric in buckets, for several devices of one tenant in one statement (a page of devices). */
export async function devicesHistory(session: TenantSession, query: HistoryQuery, deviceIds: readonly string[]): Promise<Map<string, BucketRow[]>> {
  const rows = await session.db.$queryRaw<Array<BucketRow & { device_id: string }>>(
    historySql(query, Prisma.sql`telemetry t`, Prisma.sql`t.device_id = ANY(${[...deviceIds]}::text[])`, Prisma.sql`t.device_id`),
  );
  const byDevice = new Map<string, BucketRow[]>(deviceIds.map((deviceId) => [deviceId, []]));
  for (const { device_id, ...row } of rows) byDevice.get(device_id)?.push(row);
  return byDevice;
}

/** A metric across the devices matched by `membership` (a condition on `device_registry d`), in buckets. */
export function membersHistory(session: TenantSession, query: HistoryQuery, membership: Prisma.Sql): Promise<BucketRow[]> {
  const source = Prisma.sql`telemetry t JOIN device_registry d ON d.tenant_id = t.tenant_id AND d.device_id = t.device_id`;
  return session.db.$queryRaw<BucketRow[]>(historySql(query, source, Prisma.sql`d.decommissioned_at IS NULL AND ${membership}`));
}

// ---------------------------------------------------------------------------------------------
// Retention and partitions
// ---------------------------------------------------------------------------------------------

/** A tenant's own retention in `tenants.settings`, as SQL over the row aliased `tn` (NULL when unset). */
const OWN_RETENTION = Prisma.sql`CASE WHEN jsonb_typeof(tn.settings -> 'telemetryRetentionDays') = 'number'
  THEN floor((tn.settings ->> 'telemetryRetentionDays')::numeric)::int END`;

/** The tenant's retention in days, or null when it uses the default. */
export async function ownRetentionDays(session: TenantSession, tenantId: string): Promise<number | null> {
  const [row] = await session.db.$queryRaw<Array<{ days: number | null }>>`SELECT ${OWN_RETENTION} AS days FROM tenants tn WHERE tn.tenant_id = ${tenantId}`;
  return row?.days ?? null;
}

/** Sets (`days`) or clears (`null`) the tenant's own retention; the tenants row must exist. */
export async function writeRetentionDays(session: TenantSession, tenantId: string, days: number | null): Promise<void> {
  await session.db.$executeRaw`
    UPDATE tenants SET settings = CASE WHEN ${days}::int IS NULL THEN settings - 'telemetryRetentionDays'
                                       ELSE jsonb_set(settings, '{telemetryRetentionDays}', to_jsonb(${days}::int)) END
    WHERE tenant_id = ${tenantId}`;
}

/**
 * Tenants whose retention is shorter than the partitions are kept (the longest retention of any
 * tenant, at least the default): their expired rows share partitions with longer-lived rows, so
 * they are deleted in batches. Everyone else's expire with whole partitions.
 */
export async function tenantsNeedingDeletes(session: TenantSession, defaultDays: number): Promise<Array<{ tenantId: string; days: number }>> {
  return session.db.$queryRaw<Array<{ tenantId: string; days: number }>>`
    WITH r AS (SELECT tn.tenant_id, COALESCE(${OWN_RETENTION}, ${defaultDays}::int) AS days FROM tenants tn)
    SELECT tenant_id AS "tenantId", days FROM r
    WHERE days < greatest(${defaultDays}::int, (SELECT max(days) FROM r))
    ORDER BY tenant_id`;
}

/**
 * Deletes at most `limit` of a tenant's samples older than `cutoff`. The time bound on the outer
 * DELETE lets partition pruning skip every partition newer than the cutoff.
 */
export async function deleteExpiredSamples(session: TenantSession, tenantId: string, cutoff: Date, limit: number): Promise<number> {
  return session.db.$executeRaw`
    DELETE FROM telemetry t
    WHERE t.tenant_id = ${tenantId} AND t.time < ${cutoff}::timestamptz
      AND (t.device_id, t.metric, t.time) IN (
        SELECT x.device_id, x.metric, x.time FROM telemetry x
        WHERE x.tenant_id = ${tenantId} AND x.time < ${cutoff}::timestamptz
        LIMIT ${limit})`;
}

/** Creates the daily partitions for the UTC days `firstDay`..`lastDay` (`YYYY-MM-DD`) that are missing. */
export async function ensurePartitions(session: TenantSession, firstDay: string, lastDay: string): Promise<Array<{ name: string; movedRows: number }>> {
  const rows = await session.db.$queryRaw<Array<{ partition_name: string; moved_rows: bigint }>>`
    SELECT partition_name, moved_rows FROM telemetry_ensure_partitions(${firstDay}::date, ${lastDay}::date)`;
  return rows.map((row) => ({ name: row.partition_name, movedRows: Number(row.moved_rows) }));
}

/** Drops the daily partitions wholly past every tenant's retention (see the SQL function). */
export async function dropExpiredPartitions(session: TenantSession, asOf: Date, defaultDays: number, maxDefaultRows: number): Promise<string[]> {
  const rows = await session.db.$queryRaw<Array<{ partition_name: string }>>`
    SELECT partition_name FROM telemetry_drop_partitions(${asOf}::timestamptz, ${defaultDays}::int, ${maxDefaultRows}::int)`;
  return rows.map((row) => row.partition_name);
}

/** The daily partitions that exist, oldest first (`telemetry_pYYYYMMDD`). */
export async function listPartitions(session: TenantSession): Promise<string[]> {
  const rows = await session.db.$queryRaw<Array<{ relname: string }>>`
    SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
    WHERE i.inhparent = 'telemetry'::regclass AND c.relname ~ '^telemetry_p[0-9]{8}$' ORDER BY c.relname`;
  return rows.map((row) => row.relname);
}
