import { z } from 'zod';
import { payloadTimestamp } from '../../mqtt/codec.js';
import { normalizeMac } from './mac.js';

const MAX_STATIONS = 1024;

const macSchema = z.string().transform((value, ctx) => {
  const mac = normalizeMac(value);
  if (mac === null) {
    ctx.addIssue({ code: 'custom', message: 'not a 48-bit MAC address' });
    return z.NEVER;
  }
  return mac;
});

export const wirelessStationSchema = z.object({
  mac: macSchema,
  signalDbm: z.number().min(-200).max(50).optional(),
  snrDb: z.number().min(-50).max(150).optional(),
  txRate: z.number().min(0).max(1e6).optional(),
  rxRate: z.number().min(0).max(1e6).optional(),
  ccq: z.number().min(0).max(100).optional(),
});

export const wirelessRegistrationsPayloadSchema = z.object({
  ts: payloadTimestamp.optional(),
  interface: z.string().min(1).max(64).optional(),
  stations: z.array(wirelessStationSchema).max(MAX_STATIONS),
});

export type WirelessStation = z.output<typeof wirelessStationSchema>;
export type WirelessRegistrationsPayload = z.output<typeof wirelessRegistrationsPayloadSchema>;
