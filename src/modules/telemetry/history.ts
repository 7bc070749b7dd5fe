/**
 * Validation of history requests: the bucket interval (`"1 minute"`, `"5 minutes"`, `"1 hour"`),
 * the window, and the bound on the number of buckets one call may produce. Pure.
 */
import { z } from 'zod';
import { metricNameSchema } from './payloads.js';
import type { Aggregate } from './store.js';

export const MAX_BUCKETS = 10_000;
export const MAX_WINDOW_DAYS = 400;

const UNIT_SECONDS: Record<string, number> = { second: 1, minute: 60, hour: 3_600, day: 86_400, week: 604_800 };
const BUCKET_PATTERN = /^\s*(\d{1,6})\s*(second|minute|hour|day|week)s?\s*$/i;

/**
 * Seconds in a bucket written `<count> <unit>` (second, minute, hour, day, week; singular or
 * plural), or null. Months and years are refused: their length varies, and `date_bin` takes
 * fixed strides only.
 */
export function parseBucket(text: string): number | null {
  const match = BUCKET_PATTERN.exec(text);
  if (!match) return null;
  const seconds = Number(match[1]) * UNIT_SECONDS[match[2]!.toLowerCase()]!;
  return seconds > 0 && seconds <= 366 * 86_400 ? seconds : null;
}

export const AGGREGATES = ['avg', 'min', 'max', 'sum', 'count', 'first', 'last'] as const satisfies readonly Aggregate[];

export const historyRequestSchema = z
  .object({
    metric: metricNameSchema,
    from: z.date(),
    to: z.date(),
    bucket: z.string().max(32),
    aggregate: z.enum(AGGREGATES),
  })
  .transform((request, ctx) => {
    const bucketSeconds = parseBucket(request.bucket);
    if (bucketSeconds === null) {
      ctx.addIssue({ code: 'custom', path: ['bucket'], message: 'an interval like "30 seconds", "1 minute", "1 hour" or "1 day" (at most 366 days)' });
      return z.NEVER;
    }
    const span = request.to.getTime() - request.from.getTime();
    if (span <= 0) ctx.addIssue({ code: 'custom', path: ['to'], message: 'must be after from' });
    else if (span > MAX_WINDOW_DAYS * 86_400_000) ctx.addIssue({ code: 'custom', path: ['from'], message: `the window may span at most ${MAX_WINDOW_DAYS} days` });
    else if (Math.ceil(span / (bucketSeconds * 1000)) > MAX_BUCKETS) {
      ctx.addIssue({ code: 'custom', path: ['bucket'], message: `at most ${MAX_BUCKETS} buckets per call: use a larger bucket or a shorter window` });
    }
    return { ...request, bucketSeconds };
  });

export type HistoryRequest = z.output<typeof historyRequestSchema>;
