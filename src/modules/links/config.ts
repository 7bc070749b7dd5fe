import { z } from 'zod';
import { defineConfigSection, env } from '../../config.js';
import type { LinkThresholds } from './state-machine.js';

export interface LinksSettings {
  /** Server-wide defaults; a tenant's wireless_link_settings win over them. */
  defaults: LinkThresholds;
  /** How often the links worker ages links and looks for silent APs. */
  workerIntervalMs: number;
}

declare module '../../config.js' {
  interface ModuleSettings {
    links: LinksSettings;
  }
}

// Empty means unset (as for the platform's variables), not 0.
const number = (fallback: number, min: number, max: number) =>
  z.preprocess(env.emptyToUndefined, z.coerce.number().min(min).max(max).default(fallback));
const int = (fallback: number, min: number, max: number) =>
  z.preprocess(env.emptyToUndefined, z.coerce.number().int().min(min).max(max).default(fallback));

/**
 * Defaults in the range network monitors use for outdoor point-to-multipoint radios: below
 * -75 dBm or 15 dB SNR a link is DEGRADED, it is ACTIVE again only at -70 dBm and 20 dB (the
 * 5 dB bands are the hysteresis), confirmed by 3 polls, DOWN after 3 missed polls.
 */
export const linksConfig = defineConfigSection({
  key: 'links',
  variables: {
    LINKS_SIGNAL_DEGRADE_DBM: number(-75, -150, 0),
    LINKS_SIGNAL_RECOVER_DBM: number(-70, -150, 0),
    LINKS_SNR_DEGRADE_DB: number(15, -20, 100),
    LINKS_SNR_RECOVER_DB: number(20, -20, 100),
    LINKS_CONFIRM_POLLS: int(3, 1, 100),
    LINKS_DOWN_AFTER_MISSED_POLLS: int(3, 1, 1000),
    LINKS_MIN_DWELL_SECONDS: int(60, 0, 86_400),
    LINKS_STALE_AFTER_SECONDS: int(3_600, 1, 2_592_000),
    LINKS_AP_SILENT_AFTER_SECONDS: int(600, 1, 2_592_000),
    LINKS_WORKER_INTERVAL_MS: env.positiveInt(30_000),
  },
  refine(values, issue) {
    if (values.LINKS_SIGNAL_RECOVER_DBM <= values.LINKS_SIGNAL_DEGRADE_DBM) {
      issue('LINKS_SIGNAL_RECOVER_DBM', 'must be greater than LINKS_SIGNAL_DEGRADE_DBM (the band between them is the hysteresis)');
    }
    if (values.LINKS_SNR_RECOVER_DB <= values.LINKS_SNR_DEGRADE_DB) {
      issue('LINKS_SNR_RECOVER_DB', 'must be greater than LINKS_SNR_DEGRADE_DB (the band between them is the hysteresis)');
    }
  },
  build: (values) => ({
    defaults: {
      signalDegradeDbm: values.LINKS_SIGNAL_DEGRADE_DBM,
      signalRecoverDbm: values.LINKS_SIGNAL_RECOVER_DBM,
      snrDegradeDb: values.LINKS_SNR_DEGRADE_DB,
      snrRecoverDb: values.LINKS_SNR_RECOVER_DB,
      confirmPolls: values.LINKS_CONFIRM_POLLS,
      downAfterMissedPolls: values.LINKS_DOWN_AFTER_MISSED_POLLS,
      minDwellSeconds: values.LINKS_MIN_DWELL_SECONDS,
      staleAfterSeconds: values.LINKS_STALE_AFTER_SECONDS,
      apSilentAfterSeconds: values.LINKS_AP_SILENT_AFTER_SECONDS,
    },
    workerIntervalMs: values.LINKS_WORKER_INTERVAL_MS,
  }),
});
