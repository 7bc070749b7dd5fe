/**
 * Telemetry reads and settings over a tenant transaction: bucketed history per device and per
 * group, and the tenant's retention.
 */
import { z } from 'zod';
import type { TenantSession } from '../../db/tenant-session.js';
import { parseInput } from '../../kernel/validation.js';
import { findGroup, groupMembershipSql } from '../groups/membership.js';
import { ensureTenant, requireTenant, requireWriter } from '../tenants/service.js';
import { MAX_RETENTION_DAYS } from './config.js';
import { historyRequestSchema, type HistoryRequest } from './history.js';
import { devicesHistory, membersHistory, ownRetentionDays, writeRetentionDays, type BucketRow } from './store.js';

export interface TelemetryBucket {
  startAt: Date;
  endAt: Date;
  value: number | null;
  count: number;
}

function toBuckets(rows: readonly BucketRow[], bucketSeconds: number): TelemetryBucket[] {
  return rows.map((row) => ({ startAt: row.bucket, endAt: new Date(row.bucket.getTime() + bucketSeconds * 1000), value: row.value, count: row.count }));
}

/** A validated history request (its bucket in seconds); a ValidationError at the field's arguments otherwise. */
export function parseHistoryRequest(rawRequest: unknown): HistoryRequest {
  return parseInput(historyRequestSchema, rawRequest, []);
}

/**
 * Devices' metric over [from, to) in buckets of `bucket` (aligned to the epoch, UTC), each the
 * chosen aggregate, computed in SQL for all of `deviceIds` at once. Buckets without samples are
 * left out.
 */
export async function devicesTelemetryHistory(
  session: TenantSession,
  tenantId: string,
  deviceIds: readonly string[],
  request: HistoryRequest,
): Promise<Map<string, TelemetryBucket[]>> {
  const rows = await devicesHistory(session, { ...request, tenantId }, deviceIds);
  return new Map([...rows].map(([deviceId, buckets]) => [deviceId, toBuckets(buckets, request.bucketSeconds)]));
}

/** The same across the current members of a group (static or dynamic): one aggregate per bucket over all their samples. */
export async function groupTelemetry(session: TenantSession, groupId: string, rawRequest: unknown): Promise<TelemetryBucket[]> {
  const tenantId = requireTenant(session.scope);
  const request = parseHistoryRequest(rawRequest);
  const group = await findGroup(session, tenantId, groupId);
  const rows = await membersHistory(session, { ...request, tenantId }, await groupMembershipSql(session, group));
  return toBuckets(rows, request.bucketSeconds);
}

export interface TelemetryRetention {
  retentionDays: number;
  /** False while the tenant has no retention of its own and the server default applies. */
  custom: boolean;
}

/** The caller's tenant's retention. */
export async function telemetryRetention(session: TenantSession, defaultDays: number): Promise<TelemetryRetention> {
  const own = await ownRetentionDays(session, requireTenant(session.scope));
  return { retentionDays: own ?? defaultDays, custom: own !== null };
}

const retentionInputSchema = z.object({ retentionDays: z.number().int().min(1).max(MAX_RETENTION_DAYS).nullable() });

/**
 * Sets how many days of samples the tenant keeps (`null`: back to the server default). Shorter
 * than the longest any tenant keeps, its old samples are deleted in batches by the maintenance
 * worker; otherwise they go with whole daily partitions.
 */
export async function setTelemetryRetention(session: TenantSession, rawInput: unknown, defaultDays: number): Promise<TelemetryRetention> {
  const input = parseInput(retentionInputSchema, rawInput);
  const tenantId = requireWriter(session.scope);
  await ensureTenant(session, tenantId);
  await writeRetentionDays(session, tenantId, input.retentionDays);
  return { retentionDays: input.retentionDays ?? defaultDays, custom: input.retentionDays !== null };
}
