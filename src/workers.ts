import type { Config } from './config.js';
import type { SessionRunner } from './db/tenant-session.js';
import type { Logger } from './logger.js';
import type { AppServices } from './services.js';

/**
 * A periodic job (presence evaluator, command expiry, ...). Runs are never concurrent within one
 * process; across instances a worker must be safe by construction (conditional single-statement
 * updates, `FOR UPDATE SKIP LOCKED`), since every instance runs every worker.
 */
export interface PeriodicWorker {
  name: string;
  /** From configuration, so operators can tune it (e.g. the presence evaluator's cadence). */
  intervalMs(config: Config): number;
  run(context: { runner: SessionRunner; services: AppServices; logger: Logger; now: Date }): Promise<void>;
}

/** Declares a worker (a module lists it in its descriptor's `workers`). */
export function defineWorker(worker: PeriodicWorker): PeriodicWorker {
  return worker;
}

export interface WorkerHandle {
  /** Runs every worker once now and waits for it (tests use this instead of sleeping). */
  runAllOnce(now?: Date): Promise<void>;
  stop(): Promise<void>;
}

/** Starts each worker on its interval; a failing run is logged and the next one still happens. */
export function startWorkers(
  workers: readonly PeriodicWorker[],
  context: { runner: SessionRunner; services: AppServices; logger: Logger },
  options: { autoStart: boolean },
): WorkerHandle {
  const running = new Map<string, Promise<void>>();
  const runOne = (worker: PeriodicWorker, now = new Date()): Promise<void> => {
    const current = running.get(worker.name);
    if (current) return current;
    const run = worker
      .run({ ...context, logger: context.logger.child({ worker: worker.name }), now })
      .catch((error: unknown) => context.logger.error({ err: error, worker: worker.name }, 'worker run failed'))
      .finally(() => running.delete(worker.name));
    running.set(worker.name, run);
    return run;
  };
  const timers = options.autoStart
    ? workers.map((worker) => {
        const timer = setInterval(() => void runOne(worker), worker.intervalMs(context.services.config));
        timer.unref();
        return timer;
      })
    : [];
  return {
    async runAllOnce(now) {
      for (const worker of workers) {
        await running.get(worker.name);
        await runOne(worker, now);
      }
    },
    async stop() {
      timers.forEach(clearInterval);
      await Promise.all(running.values());
    },
  };
}
