/** Closed-loop load: `concurrency` workers each run `op` back to back until the time is up. */

export interface LoopResult {
  ok: number;
  failed: number;
  seconds: number;
  /** Latency percentiles of successful operations, in ms. */
  p50: number;
  p99: number;
  firstError?: string;
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index]!;
}

/** `op(worker)` resolves true on success, false (or throws) on failure. */
export async function closedLoop(concurrency: number, seconds: number, op: (worker: number) => Promise<boolean>): Promise<LoopResult> {
  const latencies: number[] = [];
  let failed = 0;
  let firstError: string | undefined;
  const start = performance.now();
  const deadline = start + seconds * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async (_, worker) => {
      while (performance.now() < deadline) {
        const began = performance.now();
        let ok = false;
        try {
          ok = await op(worker);
        } catch (error) {
          firstError ??= error instanceof Error ? error.message : String(error);
        }
        if (ok) latencies.push(performance.now() - began);
        else failed++;
      }
    }),
  );
  const elapsed = (performance.now() - start) / 1000;
  latencies.sort((a, b) => a - b);
  return { ok: latencies.length, failed, seconds: elapsed, p50: percentile(latencies, 50), p99: percentile(latencies, 99), firstError };
}
