/**
 * Which paths desired writes changed, for optimistic-concurrency conflict detection: a stale write
 * is merged automatically only when it touches none of the paths written since the version the
 * writer saw.
 */
import { applyMergePatch, diffToMergePatch, mergePatchPaths } from './merge-patch.js';
import { jsonEqual, type JsonObject, type JsonValue } from './json.js';
import { comparePaths, ROOT_PATH } from './paths.js';

/** A recorded desired write: its version, the patch as recorded and the document after it. */
export type RecordedWrite = { version: number; patch: JsonValue; document: JsonObject };

/**
 * Paths whose value differs between `before` and `after`, as a merge patch would write them.
 * The root path when no merge patch can express the change (a `null` member in `after`).
 */
export function changedPaths(before: JsonObject, after: JsonObject): string[] {
  const patch = diffToMergePatch(before, after);
  return patch === undefined ? [ROOT_PATH] : mergePatchPaths(patch, before);
}

/**
 * The paths written by `writes` (consecutive versions, oldest first) on top of `base`, the
 * document at the version just before the first write; unique, sorted with `comparePaths`.
 *
 * A write whose recorded patch reproduces its document counts with every path the patch
 * declared, even where the value did not change: the writer stated an intent there, and a stale
 * writer touching the same path should look at it. Anything else (a REPLACE recorded as a diff
 * that cannot be replayed, a gap in the versions) counts with the paths that actually differ,
 * or, for a gap, the root: nothing can be ruled out then.
 */
export function pathsWrittenSince(base: JsonObject, baseVersion: number, writes: readonly RecordedWrite[]): string[] {
  const paths = new Set<string>();
  let previous = base;
  let expectedVersion = baseVersion + 1;
  for (const write of writes) {
    if (write.version !== expectedVersion) return [ROOT_PATH];
    const replayed = applyMergePatch(previous, write.patch);
    const written = jsonEqual(replayed, write.document) ? mergePatchPaths(write.patch, previous) : changedPaths(previous, write.document);
    for (const path of written) paths.add(path);
    previous = write.document;
    expectedVersion += 1;
  }
  return [...paths].sort(comparePaths);
}
