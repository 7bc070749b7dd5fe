import { Counter } from 'prom-client';
import { defineMetrics } from '../../http/metrics.js';

export interface PresenceMetrics {
  /** Devices the evaluator moved because they went silent (STALE or OFFLINE). */
  timeouts: Counter<'status'>;
}

declare module '../../http/metrics.js' {
  interface ModuleMetrics {
    presence: PresenceMetrics;
  }
}

export const presenceMetrics = defineMetrics({
  key: 'presence',
  create: (registry) => ({
    timeouts: new Counter({
      name: 'pulse_presence_timeouts_total',
      help: 'Devices the presence evaluator moved to STALE or OFFLINE because they went silent',
      labelNames: ['status'] as const,
      registers: [registry],
    }),
  }),
});
