/**
 * `pulse/{tenant}/{device}/telemetry`: one reading `{ ts?, metrics }` or a batch `[{ ts, metrics }]`
 * (a device that buffered while offline). Both decode to a list of entries. Bounds are checked
 * here, at the edge; the timestamp window (relative to server time) is checked by the handler,
 * since a schema has no clock.
 */
import { z } from 'zod';
import { payloadTimestamp } from '../../mqtt/codec.js';

export const MAX_METRICS_PER_ENTRY = 256;
export const MAX_ENTRIES_PER_BATCH = 1_000;
export const MAX_SAMPLES_PER_MESSAGE = 10_000;
export const MAX_TEXT_VALUE_LENGTH = 1_024;

export const METRIC_NAME_PATTERN = /^[A-Za-z0-9_.:-]{1,64}$/;
export const metricNameSchema = z.string().regex(METRIC_NAME_PATTERN, 'metric names match ^[A-Za-z0-9_.:-]{1,64}$');

/** A sample's value. z.number() rejects ±Infinity and NaN, which JSON.parse yields for e.g. 1e400. */
export const metricValueSchema = z.union([z.number(), z.boolean(), z.string().max(MAX_TEXT_VALUE_LENGTH)]);
export type MetricValue = z.output<typeof metricValueSchema>;

/**
 * Names are checked before values and a bad name is reported by position, never echoed: a
 * device's garbage does not end up in the logs (issue paths name only valid metric names).
 */
const metricsSchema = z.record(z.string(), z.unknown()).transform((metrics, ctx): Record<string, MetricValue> => {
  const entries = Object.entries(metrics);
  if (entries.length === 0) ctx.addIssue({ code: 'custom', message: 'at least one metric' });
  if (entries.length > MAX_METRICS_PER_ENTRY) ctx.addIssue({ code: 'custom', message: `at most ${MAX_METRICS_PER_ENTRY} metrics` });
  entries.forEach(([name, value], index) => {
    if (!METRIC_NAME_PATTERN.test(name)) {
      ctx.addIssue({ code: 'custom', message: `metric name #${index + 1} must match ^[A-Za-z0-9_.:-]{1,64}$` });
    } else if (!metricValueSchema.safeParse(value).success) {
      ctx.addIssue({ code: 'custom', path: [name], message: `a number, a boolean or a string of at most ${MAX_TEXT_VALUE_LENGTH} characters` });
    }
  });
  return metrics as Record<string, MetricValue>;
});

const singleSchema = z.object({ ts: payloadTimestamp.optional(), metrics: metricsSchema });
// In a batch every entry says when it was measured: receive time would stamp them all alike.
const batchSchema = z
  .array(z.object({ ts: payloadTimestamp, metrics: metricsSchema }))
  .min(1, 'an empty batch')
  .max(MAX_ENTRIES_PER_BATCH, `at most ${MAX_ENTRIES_PER_BATCH} entries`)
  .refine(
    (entries) => entries.reduce((sum, entry) => sum + Object.keys(entry.metrics).length, 0) <= MAX_SAMPLES_PER_MESSAGE,
    `at most ${MAX_SAMPLES_PER_MESSAGE} samples per message`,
  );

export interface TelemetryEntry {
  /** When it was measured; absent (single form only) means "when the server received it". */
  ts?: Date;
  metrics: Record<string, MetricValue>;
}

/** Always a list: a single reading is a batch of one. */
export type TelemetryPayload = TelemetryEntry[];

/**
 * Either form. Decided on the shape rather than with z.union, so that a bad batch reports the
 * batch's own issues (e.g. `3.metrics.t b`) instead of "matches no alternative".
 */
export const telemetryPayloadSchema: z.ZodType<TelemetryPayload, unknown> = z.unknown().transform((value, ctx): TelemetryPayload => {
  const parsed = Array.isArray(value) ? batchSchema.safeParse(value) : singleSchema.safeParse(value);
  if (parsed.success) return Array.isArray(parsed.data) ? parsed.data : [parsed.data];
  for (const issue of parsed.error.issues) ctx.addIssue({ code: 'custom', message: issue.message, path: issue.path });
  return z.NEVER;
});

declare module '../../mqtt/ingest.js' {
  interface InboundPayloads {
    telemetry: TelemetryPayload;
  }
}
