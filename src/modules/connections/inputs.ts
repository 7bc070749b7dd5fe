/**
 * Validation of connection writes (seed 000). The rules mirror the table's CHECK constraints so a
 * client gets every problem at once, by field, before the database is asked; the constraints stay
 * as the last line of defence (see errors.ts).
 */
import { z } from 'zod';
import { idSchema } from '../../kernel/ids.js';

export const CONNECTION_TYPES = ['cellular', 'ethernet', 'wifi', 'lora', 'satellite', 'other'] as const;
export const SIM_STATUSES = ['active', 'suspended', 'deactivated', 'ready', 'unknown'] as const;
export const NETWORK_STATUSES = ['connected', 'disconnected', 'suspended', 'unknown'] as const;

/** Carrier clocks drift a little; a network event further in the future than this is a bug. */
const MAX_CLOCK_SKEW_MS = 5 * 60 * 1000;

const text = (max: number) => z.string().trim().min(1, 'must not be empty').max(max, `must be at most ${max} characters`);
const pastTime = z.date().refine((value) => value.getTime() <= Date.now() + MAX_CLOCK_SKEW_MS, 'must not be in the future');

/** What INET accepts for a host or network: IPv4/IPv6, optionally with a prefix length. */
export const ipAddressSchema = z.union([z.ipv4(), z.ipv6(), z.cidrv4(), z.cidrv6()], {
  error: 'must be an IPv4 or IPv6 address, optionally with a /prefix',
});

export const upsertConnectionSchema = z.object({
  deviceId: idSchema,
  connectionType: z.enum(CONNECTION_TYPES).optional(),
  carrierName: text(200).nullish(),
  carrierAccountId: text(200).nullish(),
  planName: text(200).nullish(),
  apn: text(100).nullish(),
  simIccid: z
    .string()
    .regex(/^[0-9]{18,22}F?$/, 'must be an ICCID: 18–22 digits, optionally ending in F')
    .nullish(),
  simStatus: z.enum(SIM_STATUSES).nullish(),
  dataLimitMb: z.number().int('must be a whole number').min(0, 'must not be negative').max(2_147_483_647).nullish(),
  billingCycleStart: z.number().int('must be a whole number').min(1, 'must be between 1 and 28').max(28, 'must be between 1 and 28').nullish(),
  ipAddress: ipAddressSchema.nullish(),
  msisdn: z
    .string()
    .regex(/^\+?[0-9]{5,15}$/, 'must be a phone number: up to 15 digits, optionally starting with +')
    .nullish(),
  networkStatus: z.enum(NETWORK_STATUSES).nullish(),
  lastNetworkAttach: pastTime.nullish(),
  lastNetworkDetach: pastTime.nullish(),
  metadata: z
    .record(z.string(), z.json())
    .refine((value) => JSON.stringify(value).length <= 16_384, 'must be at most 16 KiB of JSON')
    .optional(),
});

export const recordDataUsageSchema = z.object({
  deviceId: idSchema,
  /** The carrier integration syncs across tenants; it names the tenant, defaulting to its token's. */
  tenantId: idSchema.nullish(),
  dataUsedMb: z.number().min(0, 'must not be negative').max(1e12, 'is implausibly large'),
  measuredAt: pastTime.nullish(),
});

export type UpsertConnectionInput = z.infer<typeof upsertConnectionSchema>;
export type RecordDataUsageInput = z.infer<typeof recordDataUsageSchema>;
