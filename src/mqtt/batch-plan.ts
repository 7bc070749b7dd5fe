/**
 * The order in which a batch's messages are applied. Only one device's messages must keep their
 * order (lanes already apply different devices' messages in no particular order relative to each
 * other), so a batch can be regrouped: every device's messages are cut into runs of one kind, and
 * the n-th runs of all devices are applied together, one handler call per kind. A lane's batch of
 * heartbeats and telemetry from many devices then costs one statement per kind, however the
 * two interleave on the wire, instead of one per change of kind.
 */

/** What the plan needs to know about a message. */
export interface PlannedMessage {
  kind: string;
  /** Identifies the device: messages with equal keys keep their relative order. */
  deviceKey: string;
}

/** One handler call: the batch positions it applies, in arrival order. */
export interface BatchStep {
  kind: string;
  /** True when the positions go to the kind's `handleMany` together; false for a single `handle`. */
  many: boolean;
  positions: number[];
}

/**
 * Groups `batch` into handler calls. Steps come in run order (every device's first run, then
 * every device's second run, …); within a step, positions are in arrival order. A kind without a
 * set-based handler (`hasMany(kind)` false) gets a step per message. Every position appears in
 * exactly one step, and for each device its positions appear in arrival order across the steps.
 */
export function planBatch(batch: readonly PlannedMessage[], hasMany: (kind: string) => boolean): BatchStep[] {
  const devices = new Map<string, { kind: string; run: number }>();
  /** Per run: steps by kind for set-based kinds, and every step in order of first appearance. */
  const runs: Array<{ many: Map<string, BatchStep>; steps: BatchStep[] }> = [];
  batch.forEach((message, position) => {
    const many = hasMany(message.kind);
    const device = devices.get(message.deviceKey);
    // A new run starts when the device changes kind, and with every message of a kind applied alone.
    const run = device === undefined ? 0 : device.kind === message.kind && many ? device.run : device.run + 1;
    // Updated in place: one entry per device, not one per message.
    if (device === undefined) devices.set(message.deviceKey, { kind: message.kind, run });
    else {
      device.kind = message.kind;
      device.run = run;
    }
    const slot = (runs[run] ??= { many: new Map(), steps: [] });
    if (!many) {
      slot.steps.push({ kind: message.kind, many: false, positions: [position] });
      return;
    }
    let step = slot.many.get(message.kind);
    if (!step) {
      step = { kind: message.kind, many: true, positions: [] };
      slot.many.set(message.kind, step);
      slot.steps.push(step);
    }
    step.positions.push(position);
  });
  return runs.flatMap((slot) => slot.steps);
}
