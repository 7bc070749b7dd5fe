import { Counter } from 'prom-client';
import { defineMetrics } from '../../http/metrics.js';

export interface LinksMetrics {
  /** Polls by outcome: applied, or duplicate (a repeated or older pollId/ts). */
  polls: Counter<'outcome'>;
  /** Stations of applied polls: linked (a link), unresolved (kept as a registration), ignored (the AP's own MAC). */
  stations: Counter<'resolution'>;
  /** Link state changes by new state; suppressed ones happened during a maintenance window. */
  transitions: Counter<'state' | 'suppressed'>;
}

declare module '../../http/metrics.js' {
  interface ModuleMetrics {
    links: LinksMetrics;
  }
}

export const linksMetrics = defineMetrics({
  key: 'links',
  create: (registry) => ({
    polls: new Counter({
      name: 'pulse_wireless_polls_total',
      help: 'Wireless registration polls by outcome (applied, duplicate)',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
    stations: new Counter({
      name: 'pulse_wireless_stations_total',
      help: 'Stations of applied wireless polls by resolution (linked, unresolved, ignored)',
      labelNames: ['resolution'] as const,
      registers: [registry],
    }),
    transitions: new Counter({
      name: 'pulse_wireless_link_transitions_total',
      help: 'Wireless link state changes by new state and whether a maintenance window suppressed them',
      labelNames: ['state', 'suppressed'] as const,
      registers: [registry],
    }),
  }),
});
