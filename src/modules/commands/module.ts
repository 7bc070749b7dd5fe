import { defineModule } from '../../platform/module.js';
import * as batchSchema from './batch-schema.js';
import { commandsConfig } from './config.js';
import { commandMetrics } from './metrics.js';
import { commandAckTopic, commandTopic } from './mqtt.js';
import * as mutations from './mutations.js';
import { dispatchNext, dispatchOnReconnect } from './reactions.js';
import * as schema from './schema.js';
import * as subscriptions from './subscriptions.js';
import { commandExpiryWorker, commandSweepWorker, expireCommands, sweepQueues } from './workers.js';
import './events.js';

/** Commands over MQTT: the delivery ledger (TTL, acks, offline hold, in-flight cap, restarts, group batches). */
export const commandsModule = defineModule({
  name: 'commands',
  schema: [schema, batchSchema, mutations, subscriptions],
  inbound: [commandAckTopic],
  outbound: [commandTopic],
  workers: [commandExpiryWorker, commandSweepWorker],
  reactions: [dispatchOnReconnect, dispatchNext],
  /**
   * After a restart (or a kill -9): close what outlived its TTL while the server was down, then
   * hand QUEUED commands of ONLINE devices to the broker. SENT commands stay SENT: the broker holds
   * them for the device, and their acks (held for the server's persistent session) still apply.
   */
  async onStart(context) {
    await expireCommands({ ...context, now: null });
    await sweepQueues({ ...context, now: null });
  },
  config: commandsConfig,
  metrics: commandMetrics,
  events: ['commandStatusChanged'],
  deviceFields: ['commands'],
  errorCodes: ['COMMAND_NOT_CANCELLABLE'],
});
