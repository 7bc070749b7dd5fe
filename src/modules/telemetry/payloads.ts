import { z } from 'zod';
import { payloadTimestamp } from '../../mqtt/codec.js';

const MAX_METRICS = 256;

export const metricNameSchema = z.string().regex(/^[A-Za-z0-9_.:-]{1,64}$/, 'metric names match ^[A-Za-z0-9_.:-]{1,64}$');

export const telemetryPayloadSchema = z.object({
  ts: payloadTimestamp.optional(),
  // z.number() rejects ±Infinity and NaN, which JSON.parse yields for e.g. 1e400.
  metrics: z
    .record(metricNameSchema, z.number())
    .refine((metrics) => Object.keys(metrics).length <= MAX_METRICS, `at most ${MAX_METRICS} metrics`),
});

export type TelemetryPayload = z.output<typeof telemetryPayloadSchema>;
