/**
 * Hands QUEUED commands to the broker: claim (a short service transaction under per-device
 * locks) → publish QoS 1 → record SENT for those the broker acknowledged (its own transaction,
 * one guarded statement). Requests for devices that arrive together (a burst of sendCommand, a
 * group batch, many devices reconnecting) are coalesced into one claim statement per chunk.
 *
 * Why this order: a command is SENT only once the broker answered its PUBACK; a crash between
 * claim and record leaves a lease that runs out, after which the sweep publishes it again
 * (at-least-once; the device drops the second copy by `commandId`). A command is never published
 * without a claim, so two instances never both publish it while its lease runs.
 */
import type { SessionRunner } from '../../db/tenant-session.js';
import { formatDeviceKey, type DeviceKey } from '../../kernel/device-key.js';
import { serviceScope } from '../../kernel/scope.js';
import { TimeoutError, withTimeout } from '../../kernel/timeouts.js';
import type { Logger } from '../../logger.js';
import { deviceTopic } from '../../mqtt/topics.js';
import type { AppServices } from '../../services.js';
import { claimForDispatch, lockDevicesForDispatch, markSent, releaseClaims, type ClaimedCommand } from './delivery-store.js';
import { COMMAND_TOPIC } from './topics.js';
import type { CommandMessage } from './payloads.js';
import type { CommandKey } from './store.js';
import { publishTransitions } from './transitions.js';

const DISPATCH_SCOPE = serviceScope('commands-dispatch');
/** Devices per claim statement. */
const CHUNK = 500;

export interface DispatchContext {
  runner: SessionRunner;
  services: AppServices;
  logger: Logger;
}

export interface CommandDispatcher {
  /** Dispatches the device's queue soon (coalesced with other requests); resolves when done. */
  request(key: DeviceKey): Promise<void>;
  /** Dispatches these devices' queues now. `now` null: the database clock. */
  dispatch(keys: readonly DeviceKey[], now?: Date | null): Promise<void>;
}

/** The device message of a claimed command. */
function commandMessage(command: ClaimedCommand): CommandMessage {
  return {
    commandId: command.command_id,
    commandType: command.command_type,
    params: command.command_params,
    expiresAt: command.expires_at.toISOString(),
  };
}

type Outcome = 'accepted' | 'failed' | 'timeout';

async function handOver(context: DispatchContext, command: ClaimedCommand): Promise<Outcome> {
  const topic = deviceTopic(command.tenant_id, command.device_id, COMMAND_TOPIC, { commandId: command.command_id });
  const timeoutMs = context.services.config.commands.publishTimeoutMs;
  try {
    // Resolves only on the broker's PUBACK: while the service connection is down the messenger
    // refuses at once (`whenDisconnected: 'reject'`) instead of queueing, so a command is never
    // recorded SENT before the broker has it; the claim is released and the sweep re-publishes.
    await withTimeout(context.services.messenger.publish(topic, commandMessage(command), { qos: 1, retain: false, whenDisconnected: 'reject' }), timeoutMs, `publish of ${topic}`);
    return 'accepted';
  } catch (error) {
    const outcome: Outcome = error instanceof TimeoutError ? 'timeout' : 'failed';
    context.logger.warn({ err: error, tenantId: command.tenant_id, deviceId: command.device_id, commandId: command.command_id }, 'command hand-over failed');
    return outcome;
  }
}

async function dispatchChunk(context: DispatchContext, keys: readonly DeviceKey[], now: Date | null): Promise<void> {
  const { commands: settings } = context.services.config;
  const claimed = await context.runner.run(DISPATCH_SCOPE, async (session) => {
    await lockDevicesForDispatch(session, keys);
    return claimForDispatch(session, keys, { maxInFlight: settings.maxInFlight, leaseSeconds: settings.claimLeaseSeconds, now });
  });
  if (claimed.length === 0) return;
  // Started in creation order on one connection, so each device receives its commands in order.
  const outcomes = await Promise.all(claimed.map((command) => handOver(context, command)));
  const metrics = context.services.metrics.commands;
  const accepted: CommandKey[] = [];
  const failed: CommandKey[] = [];
  outcomes.forEach((outcome, index) => {
    metrics.publishes.inc({ outcome });
    const command = claimed[index]!;
    const key = { tenantId: command.tenant_id, commandId: command.command_id };
    // A timed-out hand-over keeps its lease: the client may still deliver it, and releasing it
    // now would invite a second publish while the first is in flight.
    if (outcome === 'accepted') accepted.push(key);
    else if (outcome === 'failed') failed.push(key);
  });
  await context.runner.run(DISPATCH_SCOPE, async (session) => {
    publishTransitions(session, metrics, await markSent(session, accepted));
    await releaseClaims(session, failed);
  });
}

/** Builds a dispatcher for one app (its runner, services and logger). */
function createCommandDispatcher(context: DispatchContext): CommandDispatcher {
  const pending = new Map<string, DeviceKey>();
  let scheduled: Promise<void> | null = null;

  const dispatch = async (keys: readonly DeviceKey[], now: Date | null = null): Promise<void> => {
    const unique = [...new Map(keys.map((key) => [formatDeviceKey(key), key])).values()];
    for (let start = 0; start < unique.length; start += CHUNK) {
      await dispatchChunk(context, unique.slice(start, start + CHUNK), now);
    }
  };

  return {
    dispatch,
    request(key) {
      pending.set(formatDeviceKey(key), key);
      // Requests made in the same turn of the event loop (e.g. the events of one commit) join one flush.
      scheduled ??= new Promise<void>((resolve) => setImmediate(resolve)).then(() => {
        scheduled = null;
        const keys = [...pending.values()];
        pending.clear();
        return dispatch(keys);
      });
      return scheduled;
    },
  };
}

const dispatchers = new WeakMap<SessionRunner, CommandDispatcher>();

/** The app's dispatcher (one per runner, so two apps in one process keep their own). */
export function dispatcherFor(context: DispatchContext): CommandDispatcher {
  let dispatcher = dispatchers.get(context.runner);
  if (!dispatcher) dispatchers.set(context.runner, (dispatcher = createCommandDispatcher(context)));
  return dispatcher;
}
