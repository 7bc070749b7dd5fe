/**
 * A tenant's link thresholds (wireless_link_settings): each value the tenant set wins over the
 * server's default (LINKS_* variables). Statements that need them join the table and hand the
 * row to {@link effectiveThresholds}.
 */
import { z } from 'zod';
import { Prisma } from '../../generated/prisma/client.js';
import type { TenantSession } from '../../db/tenant-session.js';
import { ValidationError } from '../../kernel/errors.js';
import { parseInput } from '../../kernel/validation.js';
import { ensureTenant, requireWriter } from '../tenants/service.js';
import type { LinkThresholds } from './state-machine.js';

/** The settings row as statements select it (`SETTINGS_COLUMNS`); null columns mean "default". */
export interface SettingsColumns {
  s_signal_degrade_dbm: number | null;
  s_signal_recover_dbm: number | null;
  s_snr_degrade_db: number | null;
  s_snr_recover_db: number | null;
  s_confirm_polls: number | null;
  s_down_after_missed_polls: number | null;
  s_min_dwell_seconds: number | null;
  s_stale_after_seconds: number | null;
  s_ap_silent_after_seconds: number | null;
}

const COLUMN_OF: Record<keyof LinkThresholds, string> = {
  signalDegradeDbm: 'signal_degrade_dbm',
  signalRecoverDbm: 'signal_recover_dbm',
  snrDegradeDb: 'snr_degrade_db',
  snrRecoverDb: 'snr_recover_db',
  confirmPolls: 'confirm_polls',
  downAfterMissedPolls: 'down_after_missed_polls',
  minDwellSeconds: 'min_dwell_seconds',
  staleAfterSeconds: 'stale_after_seconds',
  apSilentAfterSeconds: 'ap_silent_after_seconds',
};
const KEYS = Object.keys(COLUMN_OF) as Array<keyof LinkThresholds>;

/** `s.<column> AS s_<column>, …` for a `wireless_link_settings s` joined into a statement. */
export const SETTINGS_COLUMNS = Prisma.raw(KEYS.map((key) => `s.${COLUMN_OF[key]} AS s_${COLUMN_OF[key]}`).join(', '));

/** The thresholds in effect: the tenant's values where set, the defaults elsewhere. */
export function effectiveThresholds(row: Partial<SettingsColumns> | null | undefined, defaults: LinkThresholds): LinkThresholds {
  const result = { ...defaults };
  for (const key of KEYS) {
    const value = row?.[`s_${COLUMN_OF[key]}` as keyof SettingsColumns];
    if (value !== null && value !== undefined) result[key] = Number(value);
  }
  return result;
}

/** A tenant's thresholds now in effect. */
export async function tenantThresholds(session: TenantSession, tenantId: string, defaults: LinkThresholds): Promise<LinkThresholds> {
  const [row] = await session.db.$queryRaw<SettingsColumns[]>`
    SELECT ${SETTINGS_COLUMNS} FROM wireless_link_settings s WHERE s.tenant_id = ${tenantId}`;
  return effectiveThresholds(row, defaults);
}

const dbm = z.number().min(-150).max(0);
const db = z.number().min(-20).max(100);
const month = 2_592_000;

export const thresholdsInputSchema = z
  .object({
    signalDegradeDbm: dbm.nullish(),
    signalRecoverDbm: dbm.nullish(),
    snrDegradeDb: db.nullish(),
    snrRecoverDb: db.nullish(),
    confirmPolls: z.number().int().min(1).max(100).nullish(),
    downAfterMissedPolls: z.number().int().min(1).max(1000).nullish(),
    minDwellSeconds: z.number().int().min(0).max(86_400).nullish(),
    staleAfterSeconds: z.number().int().min(1).max(month).nullish(),
    apSilentAfterSeconds: z.number().int().min(1).max(month).nullish(),
  })
  .strict();

/**
 * Sets the caller's tenant's thresholds: omitted values stay, `null` clears one (back to the
 * default). The merged result must keep each recover threshold above its degrade threshold, or
 * nothing changes (OUT_OF_ORDER). Returns the thresholds now in effect.
 */
export async function setTenantThresholds(session: TenantSession, rawInput: unknown, defaults: LinkThresholds): Promise<LinkThresholds> {
  const input = parseInput(thresholdsInputSchema, rawInput);
  const tenantId = requireWriter(session.scope);
  await ensureTenant(session, tenantId);
  await session.db.$executeRaw`INSERT INTO wireless_link_settings (tenant_id) VALUES (${tenantId}) ON CONFLICT (tenant_id) DO NOTHING`;
  const next = (key: keyof LinkThresholds) => {
    const value = input[key];
    const column = Prisma.raw(`s.${COLUMN_OF[key]}`);
    return value === undefined ? column : value === null ? Prisma.sql`NULL::float8` : Prisma.sql`${value}::float8`;
  };
  const effective = (key: keyof LinkThresholds) => Prisma.sql`COALESCE(${next(key)}, ${defaults[key]}::float8)`;
  const assignments = Prisma.join(KEYS.map((key) => Prisma.sql`${Prisma.raw(COLUMN_OF[key])} = ${next(key)}`));
  // One statement: merge and refuse (no row) when a merged pair would be out of order.
  const rows = await session.db.$queryRaw<Array<{ tenant_id: string }>>`
    UPDATE wireless_link_settings s SET ${assignments}
    WHERE s.tenant_id = ${tenantId}
      AND ${effective('signalRecoverDbm')} > ${effective('signalDegradeDbm')}
      AND ${effective('snrRecoverDb')} > ${effective('snrDegradeDb')}
    RETURNING s.tenant_id`;
  if (rows.length === 0) {
    throw new ValidationError([
      { path: ['input'], message: 'each recover threshold must stay above its degrade threshold (signal and SNR)', code: 'OUT_OF_ORDER' },
    ]);
  }
  return tenantThresholds(session, tenantId, defaults);
}
