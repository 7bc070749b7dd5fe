/**
 * The command life cycle as data: statuses, which transition may leave which status, and what an
 * ack that moved nothing was. The SQL guards (`WHERE status IN (…)`) are built from
 * {@link TRANSITIONS}, so the table and the statements cannot disagree.
 *
 *   QUEUED ──PUBACK──▶ SENT ──ack ok──▶ DELIVERED
 *     │                 │ └──ack error─▶ FAILED
 *     │                 └──TTL──────────▶ MISSED
 *     ├──TTL──────────▶ EXPIRED
 *     ├──cancel───────▶ CANCELLED
 *     └──ack (the ack overtook the PUBACK) ▶ DELIVERED | FAILED
 */

export const COMMAND_STATUSES = ['QUEUED', 'SENT', 'DELIVERED', 'FAILED', 'EXPIRED', 'MISSED', 'CANCELLED'] as const;
export type CommandStatus = (typeof COMMAND_STATUSES)[number];
/** As stored in `device_commands.status`. */
export type StoredStatus = Lowercase<CommandStatus>;

export const toStored = (status: CommandStatus): StoredStatus => status.toLowerCase() as StoredStatus;
export const fromStored = (status: string): CommandStatus => status.toUpperCase() as CommandStatus;

/** Statuses no transition leaves (the table below must agree: a unit test checks it). */
export const TERMINAL_STATUSES: readonly StoredStatus[] = ['delivered', 'failed', 'expired', 'missed', 'cancelled'];

export type TransitionName = 'send' | 'deliver' | 'fail' | 'expire' | 'miss' | 'cancel';

/**
 * Every transition and the statuses it may start from. `deliver`/`fail` start from `queued` only
 * when the command was already handed to the broker (the device can only ack what it received):
 * that condition is in the statement, next to the guard.
 */
export const TRANSITIONS: Readonly<Record<TransitionName, { from: readonly StoredStatus[]; to: StoredStatus }>> = {
  send: { from: ['queued'], to: 'sent' },
  deliver: { from: ['queued', 'sent'], to: 'delivered' },
  fail: { from: ['queued', 'sent'], to: 'failed' },
  expire: { from: ['queued'], to: 'expired' },
  miss: { from: ['sent'], to: 'missed' },
  cancel: { from: ['queued'], to: 'cancelled' },
};

/** Whether `transition` may move a command that is in `status`. */
export function canTransition(transition: TransitionName, status: StoredStatus): boolean {
  return TRANSITIONS[transition].from.includes(status);
}

/**
 * What became of an ack: `applied` moved the command; `duplicate` found it already acked (a
 * redelivery, or a second verdict); `late` found it closed otherwise (expired, missed,
 * cancelled) or past its TTL; `unknown` found no such command of that device, or one never
 * handed to the broker (which no device can have received).
 */
export type AckOutcome = 'applied' | 'duplicate' | 'late' | 'unknown';

/** The command as the ack statement found it (null: no command with that id for that device). */
export interface AckTarget {
  status: StoredStatus;
  /** Handed to the broker at least once (`published_at` set). */
  handedToBroker: boolean;
  /** Still within its TTL when the ack arrived. */
  live: boolean;
}

/** Classifies an ack by the command it found; the statement applies exactly the `applied` ones. */
export function classifyAck(target: AckTarget | null): AckOutcome {
  if (!target) return 'unknown';
  if (target.status === 'delivered' || target.status === 'failed') return 'duplicate';
  if (target.status === 'queued' && !target.handedToBroker) return 'unknown';
  if (target.status === 'queued' || target.status === 'sent') return target.live ? 'applied' : 'late';
  return 'late';
}

/** Transitions that free a device's in-flight slot or add to its queue: the dispatcher looks again. */
export const DISPATCH_TRIGGERS: ReadonlySet<CommandStatus> = new Set(['QUEUED', 'DELIVERED', 'FAILED', 'MISSED']);
