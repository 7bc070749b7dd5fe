import { defineConfigSection, env } from '../../config.js';

export interface CommandSettings {
  /** Commands a device may have in flight (handed to the broker, not yet acked); the rest wait. */
  maxInFlight: number;
  /** How long a publisher holds a QUEUED command it is handing to the broker. */
  claimLeaseSeconds: number;
  /** How long one publish waits for the broker's PUBACK before the command is left to the lease. */
  publishTimeoutMs: number;
  /** Cadence of the expiry worker and of the dispatch sweep. */
  workerIntervalMs: number;
  maxParamsBytes: number;
  maxParamsDepth: number;
  /** Largest group a group command may fan out to. */
  maxGroupTargets: number;
}

declare module '../../config.js' {
  interface ModuleSettings {
    commands: CommandSettings;
  }
}

export const commandsConfig = defineConfigSection({
  key: 'commands',
  variables: {
    // AWS IoT Jobs' default of concurrent jobs in progress per thing.
    COMMANDS_MAX_IN_FLIGHT: env.positiveInt(10),
    COMMANDS_CLAIM_LEASE_SECONDS: env.positiveInt(60),
    COMMANDS_PUBLISH_TIMEOUT_MS: env.positiveInt(30_000),
    COMMANDS_WORKER_INTERVAL_MS: env.positiveInt(5_000),
    COMMANDS_MAX_PARAMS_BYTES: env.positiveInt(16_384),
    COMMANDS_MAX_PARAMS_DEPTH: env.positiveInt(8),
    COMMANDS_MAX_GROUP_TARGETS: env.positiveInt(10_000),
  },
  refine(values, issue) {
    // A lease that ran out while its publisher still waits for the PUBACK would let a second
    // publisher take the command: the lease must outlast the wait.
    if (values.COMMANDS_CLAIM_LEASE_SECONDS * 1000 <= values.COMMANDS_PUBLISH_TIMEOUT_MS) {
      issue('COMMANDS_CLAIM_LEASE_SECONDS', 'must be longer than COMMANDS_PUBLISH_TIMEOUT_MS');
    }
  },
  build: (values) => ({
    maxInFlight: values.COMMANDS_MAX_IN_FLIGHT,
    claimLeaseSeconds: values.COMMANDS_CLAIM_LEASE_SECONDS,
    publishTimeoutMs: values.COMMANDS_PUBLISH_TIMEOUT_MS,
    workerIntervalMs: values.COMMANDS_WORKER_INTERVAL_MS,
    maxParamsBytes: values.COMMANDS_MAX_PARAMS_BYTES,
    maxParamsDepth: values.COMMANDS_MAX_PARAMS_DEPTH,
    maxGroupTargets: values.COMMANDS_MAX_GROUP_TARGETS,
  }),
});
