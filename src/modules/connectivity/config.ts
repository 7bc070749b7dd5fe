import { defineConfigSection, env } from '../../config.js';

export interface PresenceSettings {
  /** Defaults; tenants.settings.presence and per-device overrides win over these. */
  staleAfterSeconds: number;
  offlineAfterSeconds: number;
  /** How often the presence evaluator looks for silent devices. */
  evaluatorIntervalMs: number;
}

declare module '../../config.js' {
  interface ModuleSettings {
    presence: PresenceSettings;
  }
}

export const presenceConfig = defineConfigSection({
  key: 'presence',
  variables: {
    PRESENCE_STALE_AFTER_SECONDS: env.positiveInt(90),
    PRESENCE_OFFLINE_AFTER_SECONDS: env.positiveInt(300),
    PRESENCE_EVALUATOR_INTERVAL_MS: env.positiveInt(10_000),
  },
  refine(values, issue) {
    if (values.PRESENCE_OFFLINE_AFTER_SECONDS <= values.PRESENCE_STALE_AFTER_SECONDS) {
      issue('PRESENCE_OFFLINE_AFTER_SECONDS', 'must be greater than PRESENCE_STALE_AFTER_SECONDS');
    }
  },
  build: (values) => ({
    staleAfterSeconds: values.PRESENCE_STALE_AFTER_SECONDS,
    offlineAfterSeconds: values.PRESENCE_OFFLINE_AFTER_SECONDS,
    evaluatorIntervalMs: values.PRESENCE_EVALUATOR_INTERVAL_MS,
  }),
});
