import { z } from 'zod';
import { parseInput } from '../../kernel/validation.js';
import type { TenantSession } from '../../db/tenant-session.js';

export interface Uptime {
  since: Date;
  until: Date;
  /** Seconds the device was ONLINE within [since, min(until, now)]. */
  onlineSeconds: number;
  /** onlineSeconds over the elapsed part of the window; 0 for a window entirely in the future. */
  ratio: number;
}

const DAY_MS = 24 * 3600 * 1000;

const windowSchema = z
  .object({ since: z.date().nullish(), until: z.date().nullish() })
  .transform(({ since, until }, ctx) => {
    const end = until ?? new Date();
    const start = since ?? new Date(end.getTime() - DAY_MS);
    if (start >= end) ctx.addIssue({ code: 'custom', path: ['since'], message: 'must be before until' });
    if (end.getTime() - start.getTime() > 366 * DAY_MS) ctx.addIssue({ code: 'custom', path: ['since'], message: 'the window may span at most 366 days' });
    return { since: start, until: end };
  });

/**
 * Uptime of devices of one tenant over a window, computed in SQL from their connectivity log in one
 * statement: the status at `since` is that of the last event before it (OFFLINE if none), each
 * later event starts a new segment, and ONLINE segments are summed. STALE counts as not online (it
 * is logged as a DISCONNECTED event). The part of the window after now is not counted either way.
 * Defaults: the 24 hours up to now.
 */
export async function devicesUptime(
  session: TenantSession,
  tenantId: string,
  deviceIds: readonly string[],
  rawWindow: { since?: Date | null; until?: Date | null },
): Promise<Map<string, Uptime>> {
  const { since, until } = parseInput(windowSchema, rawWindow, []);
  const end = new Date(Math.min(until.getTime(), Date.now()));
  const result = new Map<string, Uptime>();
  if (end <= since) {
    for (const deviceId of deviceIds) result.set(deviceId, { since, until, onlineSeconds: 0, ratio: 0 });
    return result;
  }
  const rows = await session.db.$queryRaw<Array<{ device_id: string; online_seconds: number }>>`
    WITH keys AS (SELECT unnest(${deviceIds as string[]}::text[]) AS device_id),
    timeline AS (
      SELECT k.device_id, ${since}::timestamptz AS at, 0::bigint AS id, COALESCE((
        SELECT e.new_status FROM device_connection_events e
        WHERE e.tenant_id = ${tenantId} AND e.device_id = k.device_id AND e.occurred_at <= ${since}::timestamptz
        ORDER BY e.occurred_at DESC, e.id DESC LIMIT 1
      ), 'OFFLINE') AS status
      FROM keys k
      UNION ALL
      SELECT e.device_id, e.occurred_at, e.id, e.new_status FROM device_connection_events e
      JOIN keys k ON k.device_id = e.device_id
      WHERE e.tenant_id = ${tenantId} AND e.occurred_at > ${since}::timestamptz AND e.occurred_at < ${end}::timestamptz
    ),
    segments AS (
      SELECT device_id, status, at, LEAD(at, 1, ${end}::timestamptz) OVER (PARTITION BY device_id ORDER BY at, id) AS ends FROM timeline
    )
    SELECT device_id, COALESCE(SUM(EXTRACT(EPOCH FROM ends - at)) FILTER (WHERE status = 'ONLINE'), 0)::float8 AS online_seconds
    FROM segments GROUP BY device_id`;
  const elapsedSeconds = (end.getTime() - since.getTime()) / 1000;
  for (const row of rows) {
    result.set(row.device_id, { since, until, onlineSeconds: row.online_seconds, ratio: Math.min(1, row.online_seconds / elapsedSeconds) });
  }
  return result;
}

/** One device's uptime (see {@link devicesUptime}). */
export async function deviceUptime(
  session: TenantSession,
  key: { tenantId: string; deviceId: string },
  rawWindow: { since?: Date | null; until?: Date | null },
): Promise<Uptime> {
  const uptime = await devicesUptime(session, key.tenantId, [key.deviceId], rawWindow);
  return uptime.get(key.deviceId)!;
}
