/**
 * Structured twin delta (desired vs reported) and the sync status derived from it.
 */
import { getMember, isJsonObject, jsonEqual, type JsonObject, type JsonValue } from './json.js';
import { joinPath, ROOT_PATH } from './paths.js';

/** A path present on one side only, with its value on that side. */
export type DeltaEntry = { path: string; value: JsonValue };

/** A path present on both sides with different values. */
export type DeltaChange = { path: string; desired: JsonValue; reported: JsonValue };

/** Difference between the desired and reported documents, each list ordered by path. */
export type TwinDelta = {
  /** Leaf paths in desired but not in reported. */
  added: DeltaEntry[];
  /** Leaf paths in reported but not in desired. */
  removed: DeltaEntry[];
  /** Paths in both whose values differ. */
  changed: DeltaChange[];
  /** Leaf paths whose values are equal in both. */
  unchanged: string[];
};

/**
 * Compares desired with reported, path by path.
 *
 * - A path holding an object on both sides recurses; results name leaves, never containers.
 * - A leaf is a scalar, `null` (a present value, unlike an absent key), an array (compared as a
 *   whole value) or an empty object. A subtree present on one side only is expanded to its leaves,
 *   so `added`/`removed` list e.g. `a.b` and `a.c`, not `a`.
 * - Object on one side and non-object on the other is one `changed` entry at that path.
 * - `{}` on both sides is `unchanged` at that path; `{}` on one side and a non-empty object on the
 *   other recurses, so only the non-empty side's leaves show up (as added or removed).
 *
 * Lists are ordered by path key by key (as `comparePaths` orders them). Values are the inputs'
 * own subtrees, not copies. A missing document (`null`/`undefined`) counts as `{}`.
 */
export function computeTwinDelta(
  desired: JsonObject | null | undefined,
  reported: JsonObject | null | undefined,
): TwinDelta {
  const delta: TwinDelta = { added: [], removed: [], changed: [], unchanged: [] };
  compareObjects(desired ?? {}, reported ?? {}, ROOT_PATH, delta);
  return delta;
}

function compareObjects(desired: JsonObject, reported: JsonObject, path: string, delta: TwinDelta): void {
  // Sorting keys at every level yields the lists already in path order.
  const keys = [...new Set([...Object.keys(desired), ...Object.keys(reported)])].sort();
  for (const key of keys) {
    const childPath = joinPath(path, key);
    const want = getMember(desired, key);
    const have = getMember(reported, key);
    if (have === undefined) {
      collectLeaves(want!, childPath, delta.added);
    } else if (want === undefined) {
      collectLeaves(have, childPath, delta.removed);
    } else if (isJsonObject(want) && isJsonObject(have) && !bothEmpty(want, have)) {
      compareObjects(want, have, childPath, delta);
    } else if (jsonEqual(want, have)) {
      delta.unchanged.push(childPath);
    } else {
      delta.changed.push({ path: childPath, desired: want, reported: have });
    }
  }
}

function bothEmpty(a: JsonObject, b: JsonObject): boolean {
  return Object.keys(a).length === 0 && Object.keys(b).length === 0;
}

function collectLeaves(value: JsonValue, path: string, into: DeltaEntry[]): void {
  if (!isJsonObject(value) || Object.keys(value).length === 0) {
    into.push({ path, value });
    return;
  }
  for (const key of Object.keys(value).sort()) collectLeaves(value[key]!, joinPath(path, key), into);
}

/** Connectivity status of a device, as stored on its state row. */
import type { PresenceStatus as DeviceStatus } from '../../kernel/presence.js';

export type { DeviceStatus };

/** Whether the device has converged on the desired document. */
export type TwinSyncStatus = 'IN_SYNC' | 'PENDING' | 'STALE';

/** Inputs of {@link computeSyncStatus}. */
export type SyncStatusInput = {
  /** Only `added` and `changed` matter; see {@link computeSyncStatus}. */
  delta: Pick<TwinDelta, 'added' | 'changed'>;
  deviceStatus: DeviceStatus;
  /** When the desired document last changed; `null` if it never was written. */
  desiredUpdatedAt: Date | null;
  /** When the device last reported; used for `pendingSince` only when `desiredUpdatedAt` is null. */
  reportedUpdatedAt?: Date | null;
  /** Current desired version. */
  desiredVersion: number;
  /** Desired version the device last said it had applied, when devices report one. */
  lastReportedDesiredVersion?: number | null;
};

/** Output of {@link computeSyncStatus}. */
export type SyncStatusResult = {
  status: TwinSyncStatus;
  /** Since when desired has been waiting for the device; `null` when in sync. */
  pendingSince: Date | null;
  /**
   * Whether the device acknowledged the current desired version (`lastReportedDesiredVersion >=
   * desiredVersion`); `null` when it never reported a version. Informational: a device that
   * acknowledged but still differs is not in sync.
   */
  desiredAcknowledged: boolean | null;
};

/**
 * Sync status from a delta and the device's connectivity.
 *
 * - `IN_SYNC` when nothing desired is missing or different (`added` and `changed` empty).
 *   Paths only in reported (`removed`) do not count: devices report more than is ever desired
 *   (firmware, uptime, ...), and the delta that matters is "desired keys that differ".
 * - `PENDING` when desired differs and the device is `ONLINE`: it should converge soon.
 * - `STALE` when desired differs and the device is `STALE` or `OFFLINE`: it cannot converge now.
 *
 * `pendingSince` is `desiredUpdatedAt` (falling back to `reportedUpdatedAt`) whenever not in sync.
 */
export function computeSyncStatus(input: SyncStatusInput): SyncStatusResult {
  const last = input.lastReportedDesiredVersion;
  const desiredAcknowledged = last === undefined || last === null ? null : last >= input.desiredVersion;
  if (input.delta.added.length === 0 && input.delta.changed.length === 0) {
    return { status: 'IN_SYNC', pendingSince: null, desiredAcknowledged };
  }
  const pendingSince = input.desiredUpdatedAt ?? input.reportedUpdatedAt ?? null;
  const status: TwinSyncStatus = input.deviceStatus === 'ONLINE' ? 'PENDING' : 'STALE';
  return { status, pendingSince, desiredAcknowledged };
}
