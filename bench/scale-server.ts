/**
 * Pulse under the scale suite, in its own process, started with `--expose-gc`: `startPulse` as in
 * bench/pulse-server.ts, plus what the suite needs to read memory per subscriber: a full
 * collection on request (the figures themselves are read from Pulse's /metrics) and, with
 * BENCH_SCALE_HEAP_SNAPSHOT=<dir>, heap snapshots to see what a subscriber holds.
 */
import path from 'node:path';
import { writeHeapSnapshot } from 'node:v8';
import { createLogger } from '../src/logger.js';
import { loadPulseConfig, startPulse } from '../src/server.js';
import { serveIpc } from './lib/child.js';
import { fullGc } from './lib/memory.js';

const config = loadPulseConfig(process.env);
const pulse = await startPulse(config, createLogger(config.logLevel), { autoStartWorkers: false });
const snapshotDir = process.env['BENCH_SCALE_HEAP_SNAPSHOT'];

serveIpc(
  {
    activeSubscriptions: async () => (await pulse.app.metrics.subscriptions.get()).values[0]?.value ?? 0,
    gc: () => fullGc(),
    /** Writes `<dir>/<label>.heapsnapshot` after a full collection; null when snapshots are off. */
    heapSnapshot(payload) {
      if (!snapshotDir) return null;
      fullGc();
      return writeHeapSnapshot(path.join(snapshotDir, `${(payload as { label: string }).label}.heapsnapshot`));
    },
  },
  () => pulse.stop(),
  pulse.port,
);
