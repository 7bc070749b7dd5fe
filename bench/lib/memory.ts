import { readFile } from 'node:fs/promises';

/**
 * Memory readings of a bench child after a full collection. The child runs with `--expose-gc`;
 * two passes, because the first can leave objects that only become garbage once finalizers and
 * weak callbacks it queued have run.
 */

export interface MemoryReading {
  rssBytes: number;
  heapUsedBytes: number;
  /** Buffers and other memory V8 counts outside its heap. */
  externalBytes: number;
}

/** Runs in the child: a full GC, then `process.memoryUsage()`. */
export function fullGc(): MemoryReading {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('start this process with --expose-gc');
  gc();
  gc();
  const usage = process.memoryUsage();
  return { rssBytes: usage.rss, heapUsedBytes: usage.heapUsed, externalBytes: usage.external };
}

/** Pulse's own view of its memory, from its /metrics (prom-client's default metrics, `pulse_` prefix). */
export async function pulseMetricsMemory(port: number): Promise<MemoryReading> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const metric = (name: string) => {
    const value = Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1]);
    if (!Number.isFinite(value)) throw new Error(`/metrics has no ${name}`);
    return value;
  };
  return {
    rssBytes: metric('pulse_process_resident_memory_bytes'),
    heapUsedBytes: metric('pulse_nodejs_heap_size_used_bytes'),
    externalBytes: metric('pulse_nodejs_external_memory_bytes'),
  };
}

/** Soft limit on open files of this process (children inherit it), from /proc; undefined elsewhere. */
export async function openFilesLimit(): Promise<number | undefined> {
  const limits = await readFile('/proc/self/limits', 'utf8').catch(() => '');
  const soft = /^Max open files\s+(\d+)/m.exec(limits)?.[1];
  return soft ? Number(soft) : undefined;
}
