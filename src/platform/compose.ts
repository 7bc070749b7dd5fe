import type { GraphQLSchema } from 'graphql';
import { installDeviceFilterTerms } from '../graphql/device-filter-terms.js';
import { installErrorCodes } from '../graphql/errors.js';
import { buildSchema } from '../graphql/schema.js';
import type { DeviceWill, InboundTopic } from '../mqtt/ingest.js';
import { createTopicTable, type TopicTable } from '../mqtt/topics.js';
import type { PeriodicWorker } from '../workers.js';
import type { PulseModule } from './module.js';

/** The modules put together: what the app wires (schema, topics, workers) and the descriptors themselves. */
export interface ComposedModules {
  modules: readonly PulseModule[];
  schema: GraphQLSchema;
  topics: TopicTable;
  workers: readonly PeriodicWorker[];
  deviceWill?: DeviceWill;
}

const composed = new WeakMap<readonly PulseModule[], ComposedModules>();

function unique(kind: string, names: string[]): void {
  const seen = new Set<string>();
  for (const name of names) {
    if (seen.has(name)) throw new TypeError(`${kind} ${name} is declared by two modules`);
    seen.add(name);
  }
}

/**
 * Checks that no two modules claim the same name, event, Device field or worker, installs the
 * contributed device filters and builds the schema and the topic table. The schema builder is one
 * per process, so a given module list is composed once and the result reused.
 */
export function composeModules(modules: readonly PulseModule[]): ComposedModules {
  const existing = composed.get(modules);
  if (existing) return existing;
  unique('module', modules.map((module) => module.name));
  unique('event', modules.flatMap((module) => module.events ?? []));
  unique('Device field', modules.flatMap((module) => module.deviceFields ?? []));
  unique('worker', modules.flatMap((module) => (module.workers ?? []).map((worker) => worker.name)));
  unique('config section', modules.flatMap((module) => (module.config ? [module.config.key] : [])));
  const wills = modules.flatMap((module) => (module.deviceWill ? [module.deviceWill as unknown as DeviceWill] : []));
  if (wills.length > 1) throw new TypeError('two modules declare the device will');
  installErrorCodes(modules.flatMap((module) => module.errorCodes ?? []));
  installDeviceFilterTerms(
    modules.flatMap((module) => module.deviceFilters ?? []),
    modules.flatMap((module) => module.deviceDimensions ?? []),
  );
  const result: ComposedModules = {
    modules,
    schema: buildSchema(),
    topics: createTopicTable(
      modules.flatMap((module) => (module.inbound ?? []) as unknown as InboundTopic[]),
      modules.flatMap((module) => module.outbound ?? []),
    ),
    workers: modules.flatMap((module) => module.workers ?? []),
    deviceWill: wills[0],
  };
  composed.set(modules, result);
  return result;
}
