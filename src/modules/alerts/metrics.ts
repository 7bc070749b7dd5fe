import { Counter } from 'prom-client';
import { defineMetrics } from '../../http/metrics.js';

export interface AlertMetrics {
  /** Alerts raised, acknowledged and cleared. */
  transitions: Counter<'change' | 'severity'>;
}

declare module '../../http/metrics.js' {
  interface ModuleMetrics {
    alerts: AlertMetrics;
  }
}

export const alertMetrics = defineMetrics({
  key: 'alerts',
  create: (registry) => ({
    transitions: new Counter({
      name: 'pulse_alert_transitions_total',
      help: 'Alert life-cycle transitions (RAISED, ACKNOWLEDGED, CLEARED) by severity',
      labelNames: ['change', 'severity'] as const,
      registers: [registry],
    }),
  }),
});
