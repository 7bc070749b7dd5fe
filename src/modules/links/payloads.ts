import { z } from 'zod';
import { payloadTimestamp } from '../../mqtt/codec.js';
import { normalizeMac } from './mac.js';

/** Stations one poll may list; the codec's 256 KiB payload cap holds 1,024 full stations. */
export const MAX_STATIONS_PER_POLL = 1024;

export const macSchema = z.string().transform((value, ctx) => {
  const mac = normalizeMac(value);
  if (mac === null) {
    ctx.addIssue({ code: 'custom', message: 'not a 48-bit MAC address (colon, dash, dotted or bare hex)' });
    return z.NEVER;
  }
  return mac;
});

/** A finite figure in a physically plausible range; null is accepted as "not measured". */
const figure = (min: number, max: number) => z.number().min(min).max(max).nullish();

export const wirelessStationSchema = z.object({
  mac: macSchema,
  signalDbm: figure(-150, 30),
  snrDb: figure(-20, 100),
  noiseDbm: figure(-150, 0),
  txRateMbps: figure(0, 100_000),
  rxRateMbps: figure(0, 100_000),
  ccq: figure(0, 100),
  uptimeS: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).nullish(),
});

/**
 * `wireless/registrations`: one poll of one AP radio. `pollId` must grow with every poll of the
 * radio (a counter kept across reboots, or the poll's epoch milliseconds); a poll whose pollId or
 * ts is not newer than the last applied one changes nothing.
 */
export const wirelessRegistrationsPayloadSchema = z.object({
  pollId: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  interface: z
    .string()
    .min(1)
    .max(64)
    .regex(/^[\x21-\x7e]+$/, 'printable ASCII without spaces'),
  ts: payloadTimestamp,
  stations: z.array(wirelessStationSchema).max(MAX_STATIONS_PER_POLL),
});

export type WirelessStation = z.output<typeof wirelessStationSchema>;
export type WirelessRegistrationsPayload = z.output<typeof wirelessRegistrationsPayloadSchema>;

declare module '../../mqtt/ingest.js' {
  interface InboundPayloads {
    wirelessRegistrations: WirelessRegistrationsPayload;
  }
}
