import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * Each module's metrics, by section key. Empty here: a module adds its own by declaration merging
 * next to its {@link MetricsSection}, e.g. `interface ModuleMetrics { presence: PresenceMetrics }`.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface ModuleMetrics {}

/** A module's metrics, created on the app's registry (one registry per app, so tests can run several). */
export interface MetricsSection<K extends keyof ModuleMetrics = keyof ModuleMetrics> {
  key: K;
  create(registry: Registry): ModuleMetrics[K];
}

export function defineMetrics<K extends keyof ModuleMetrics>(section: MetricsSection<K>): MetricsSection<K> {
  return section;
}

/** The platform's metrics and every module's section (`metrics[key]`). */
export function createMetrics(modules: ReadonlyArray<{ metrics?: MetricsSection }> = []) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'pulse_' });
  const sections = Object.fromEntries(
    modules.flatMap((module) => (module.metrics ? [[module.metrics.key, module.metrics.create(registry)]] : [])),
  ) as unknown as ModuleMetrics;
  return {
    ...sections,
    registry,
    graphqlOperations: new Counter({
      name: 'pulse_graphql_operations_total',
      help: 'GraphQL operations by type and outcome',
      labelNames: ['type', 'outcome'] as const,
      registers: [registry],
    }),
    graphqlCompiledReads: new Counter({
      name: 'pulse_graphql_compiled_reads_total',
      help: 'Queries answered by one compiled SQL statement (compiled) or handed to the resolvers (resolvers)',
      labelNames: ['path'] as const,
      registers: [registry],
    }),
    graphqlDuration: new Histogram({
      name: 'pulse_graphql_operation_duration_seconds',
      help: 'GraphQL execution time including its tenant transaction',
      labelNames: ['type'] as const,
      buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    mqttMessages: new Counter({
      name: 'pulse_mqtt_messages_total',
      help: 'MQTT messages received from devices by topic kind and outcome',
      labelNames: ['kind', 'outcome'] as const,
      registers: [registry],
    }),
    mqttRejected: new Counter({
      name: 'pulse_mqtt_rejected_total',
      help: 'MQTT messages dropped, by reason (bad topic, bad payload, unknown device, ...)',
      labelNames: ['kind', 'reason'] as const,
      registers: [registry],
    }),
    mqttRetries: new Counter({
      name: 'pulse_mqtt_batch_retries_total',
      help: 'Batches of device messages held back (unacknowledged) and retried because the database was unavailable',
      registers: [registry],
    }),
    subscriptions: new Gauge({
      name: 'pulse_graphql_active_subscriptions',
      help: 'Open GraphQL subscriptions',
      registers: [registry],
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
