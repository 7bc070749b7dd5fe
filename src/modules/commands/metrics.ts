import { Counter } from 'prom-client';
import { defineMetrics } from '../../http/metrics.js';

export interface CommandMetrics {
  /** Transitions by the status they moved to (QUEUED counts creations). */
  transitions: Counter<'status'>;
  /** Device acks by what they found: applied, duplicate, late or unknown (foreign, never sent). */
  acks: Counter<'outcome'>;
  /** Hand-overs to the broker: accepted (PUBACK), failed, or timed out waiting. */
  publishes: Counter<'outcome'>;
}

declare module '../../http/metrics.js' {
  interface ModuleMetrics {
    commands: CommandMetrics;
  }
}

export const commandMetrics = defineMetrics({
  key: 'commands',
  create: (registry) => ({
    transitions: new Counter({
      name: 'pulse_command_transitions_total',
      help: 'Command status transitions by the status moved to (QUEUED: created)',
      labelNames: ['status'] as const,
      registers: [registry],
    }),
    acks: new Counter({
      name: 'pulse_command_acks_total',
      help: 'Command acks from devices by outcome: applied, duplicate, late (command closed or past its TTL), unknown',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
    publishes: new Counter({
      name: 'pulse_command_publishes_total',
      help: 'Commands handed to the broker by outcome: accepted (PUBACK), failed, timeout',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
  }),
});
