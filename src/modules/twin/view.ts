/**
 * The derived parts of a twin (structured delta, sync status) from its stored columns. Pure, so
 * the GraphQL fields, the write paths' events and the tests all derive them the same way.
 */
import { computeSyncStatus, computeTwinDelta, type DeviceStatus, type SyncStatusResult, type TwinDelta } from './delta.js';
import { isJsonObject, type JsonObject } from './json.js';

/** The `device_state` columns the view needs, as Prisma or a RETURNING clause gives them. */
export type TwinState = {
  desiredState: unknown;
  reportedState: unknown;
  desiredVersion: number;
  status: string;
  desiredUpdatedAt?: Date | null;
  reportedUpdatedAt?: Date | null;
};

export type TwinView = { delta: TwinDelta; sync: SyncStatusResult };

const DEVICE_STATUSES: readonly string[] = ['ONLINE', 'STALE', 'OFFLINE'] satisfies DeviceStatus[];

/** A document column as an object; the database only stores objects, anything else reads as `{}`. */
export function documentOf(value: unknown): JsonObject {
  return isJsonObject(value) ? (value as JsonObject) : {};
}

/**
 * Delta and sync status of a twin. An unknown status counts as OFFLINE (a device that never
 * connected), so a pending change on it is STALE rather than PENDING.
 */
export function viewTwin(state: TwinState): TwinView {
  const delta = computeTwinDelta(documentOf(state.desiredState), documentOf(state.reportedState));
  const deviceStatus = (DEVICE_STATUSES.includes(state.status) ? state.status : 'OFFLINE') as DeviceStatus;
  const sync = computeSyncStatus({
    delta,
    deviceStatus,
    desiredUpdatedAt: state.desiredUpdatedAt ?? null,
    reportedUpdatedAt: state.reportedUpdatedAt ?? null,
    desiredVersion: state.desiredVersion,
  });
  return { delta, sync };
}
