import { z } from 'zod';
import { AlreadyExistsError } from '../../kernel/errors.js';
import { idSchema } from '../../kernel/ids.js';
import { parseInput } from '../../kernel/validation.js';
import { isUniqueViolation } from '../../kernel/sql-errors.js';
import type { TenantSession } from '../../db/tenant-session.js';
import { ensureTenant, requireWriter } from '../tenants/service.js';

const createSiteSchema = z.object({
  siteId: idSchema,
  name: z.string().trim().min(1, 'must not be empty').max(200),
  address: z.string().max(500).nullish(),
  latitude: z.number().min(-90).max(90).nullish(),
  longitude: z.number().min(-180).max(180).nullish(),
});

/** Creates a site in the caller's tenant (creating the tenant row on first write). */
export async function createSite(session: TenantSession, rawInput: unknown): Promise<{ tenantId: string; siteId: string }> {
  const input = parseInput(createSiteSchema, rawInput);
  const tenantId = requireWriter(session.scope);
  await ensureTenant(session, tenantId);
  try {
    await session.db.site.create({
      data: { tenantId, siteId: input.siteId, name: input.name, address: input.address ?? null, latitude: input.latitude ?? null, longitude: input.longitude ?? null },
      select: { siteId: true },
    });
  } catch (error) {
    if (isUniqueViolation(error)) throw new AlreadyExistsError('Site', input.siteId);
    throw error;
  }
  return { tenantId, siteId: input.siteId };
}
