import { defineConfigSection, env } from '../../config.js';

export interface AlertSettings {
  /** How often the evaluator checks the time-based rules (offline for, twin not converged). */
  evaluatorIntervalMs: number;
  /** Alerts raised or cleared per evaluator statement; a backlog is worked off over further runs. */
  evaluatorBatch: number;
}

declare module '../../config.js' {
  interface ModuleSettings {
    alerts: AlertSettings;
  }
}

export const alertsConfig = defineConfigSection({
  key: 'alerts',
  variables: {
    ALERTS_EVALUATOR_INTERVAL_MS: env.positiveInt(10_000),
    ALERTS_EVALUATOR_BATCH: env.positiveInt(1_000),
  },
  build: (values) => ({ evaluatorIntervalMs: values.ALERTS_EVALUATOR_INTERVAL_MS, evaluatorBatch: values.ALERTS_EVALUATOR_BATCH }),
});
