/**
 * Maintenance windows: planned work on a device. While one is open, DEGRADED and DOWN changes of
 * the device's wireless links (as AP or CPE) are still tracked and stored, marked suppressed, but
 * not announced to subscribers.
 */
import { z } from 'zod';
import type { TenantSession } from '../../db/tenant-session.js';
import { NotFoundError } from '../../kernel/errors.js';
import { idSchema } from '../../kernel/ids.js';
import { parseInput } from '../../kernel/validation.js';
import { findActiveDevice } from '../devices/service.js';
import { requireWriter } from '../tenants/service.js';

const MAX_WINDOW_MS = 366 * 24 * 3600 * 1000;

export const scheduleMaintenanceSchema = z
  .object({
    deviceId: idSchema,
    startsAt: z.date(),
    endsAt: z.date(),
    reason: z.string().max(500).nullish(),
  })
  .superRefine((input, ctx) => {
    if (input.endsAt <= input.startsAt) ctx.addIssue({ code: 'custom', path: ['endsAt'], message: 'must be after startsAt' });
    else if (input.endsAt.getTime() - input.startsAt.getTime() > MAX_WINDOW_MS) {
      ctx.addIssue({ code: 'custom', path: ['endsAt'], message: 'a window may last at most 366 days' });
    }
    if (input.endsAt.getTime() <= Date.now()) ctx.addIssue({ code: 'custom', path: ['endsAt'], message: 'must be in the future' });
  });

export const cancelMaintenanceSchema = z.object({ id: z.uuid('must be a maintenance window id') });

/** Schedules a window on an active device of the caller's tenant; returns its id. */
export async function scheduleDeviceMaintenance(session: TenantSession, rawInput: unknown): Promise<string> {
  const input = parseInput(scheduleMaintenanceSchema, rawInput);
  const tenantId = requireWriter(session.scope);
  await findActiveDevice(session, { tenantId, deviceId: input.deviceId });
  const window = await session.db.deviceMaintenanceWindow.create({
    data: { tenantId, deviceId: input.deviceId, startsAt: input.startsAt, endsAt: input.endsAt, reason: input.reason ?? null, createdBy: session.scope.actorId },
    select: { id: true },
  });
  return window.id;
}

/** Cancels (deletes) a window; events already marked suppressed stay as they are. */
export async function cancelDeviceMaintenance(session: TenantSession, rawInput: unknown): Promise<{ id: string; deviceId: string }> {
  const input = parseInput(cancelMaintenanceSchema, rawInput);
  const tenantId = requireWriter(session.scope);
  const [deleted] = await session.db.$queryRaw<Array<{ device_id: string }>>`
    DELETE FROM device_maintenance_windows WHERE tenant_id = ${tenantId} AND id = ${input.id}::uuid RETURNING device_id`;
  if (!deleted) throw new NotFoundError('MaintenanceWindow', input.id);
  return { id: input.id, deviceId: deleted.device_id };
}
