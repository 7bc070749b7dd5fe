/**
 * RFC 7396 JSON Merge Patch: applying patches, listing the paths a patch writes, and deriving the
 * patch between two documents (REPLACE writes are recorded in history as merge patches).
 */
import {
  cloneJson,
  defineMember,
  getMember,
  isJsonObject,
  jsonEqual,
  type JsonObject,
  type JsonValue,
} from './json.js';
import { comparePaths, joinPath, ROOT_PATH } from './paths.js';

/**
 * Applies `patch` to `target` as RFC 7396 specifies: an object patch merges member by member
 * (`null` deletes, objects merge recursively, anything else replaces, a non-object target is first
 * reset to `{}`), a non-object patch (including arrays and `null`) replaces the target outright.
 *
 * Never mutates either input. The result shares untouched subtrees of `target` (treat it as
 * immutable); values taken from `patch` are copied.
 *
 * @param target the current document, or `undefined` when there is none
 */
export function applyMergePatch(target: JsonValue | undefined, patch: JsonValue): JsonValue {
  if (!isJsonObject(patch)) return cloneJson(patch);
  const base: JsonObject = isJsonObject(target) ? target : {};
  const result: JsonObject = {};
  for (const [key, value] of Object.entries(base)) defineMember(result, key, value);
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) {
      delete result[key];
    } else {
      defineMember(result, key, applyMergePatch(getMember(base, key), value));
    }
  }
  return result;
}

/**
 * The paths a patch writes to, unique and sorted (see `comparePaths`). A path is listed when the
 * patch declares a write there, whether or not the value actually changes:
 * - `null`, a scalar or an array at a path touches that path (delete or replace);
 * - a non-empty object descends into its members;
 * - an empty object `{}` touches its path, because it creates `{}` there or replaces a non-object;
 *   when `target` is given and already holds an object at that path, `{}` is a no-op and touches
 *   nothing;
 * - an object at a path where `target` holds a scalar, array or `null` touches that path too
 *   (the old value is replaced) and also descends;
 * - a non-object patch at the root touches the root path `''` (whole document replaced).
 *
 * Without `target` the root is taken to be an object (twin documents always are) and everything
 * below it unknown, which errs towards listing more paths: the safe side for conflict detection.
 */
export function mergePatchPaths(patch: JsonValue, target?: JsonValue): string[] {
  const touched = new Set<string>();
  const visit = (value: JsonValue, current: JsonValue | undefined, path: string): void => {
    if (!isJsonObject(value)) {
      touched.add(path);
      return;
    }
    const currentIsObject = isJsonObject(current);
    const entries = Object.entries(value);
    if (current !== undefined && !currentIsObject) touched.add(path);
    else if (entries.length === 0 && !currentIsObject) touched.add(path);
    for (const [key, member] of entries) {
      visit(member, currentIsObject ? getMember(current, key) : undefined, joinPath(path, key));
    }
  };
  visit(patch, target === undefined ? {} : target, ROOT_PATH);
  return [...touched].sort(comparePaths);
}

/**
 * True when `value` has an object member whose value is `null` outside of arrays. A merge patch
 * cannot create such a member (`null` means delete), so such a document is not reachable by one.
 */
export function hasNullMember(value: JsonValue): boolean {
  if (!isJsonObject(value)) return false;
  return Object.values(value).some((member) => member === null || hasNullMember(member));
}

/**
 * The smallest merge patch (fewest members) that turns `before` into `after`:
 * `applyMergePatch(before, diffToMergePatch(before, after))` deep-equals `after`. Equal objects
 * give `{}`; a non-object `after` gives `after` itself (it replaces).
 *
 * Returns `undefined` when no merge patch can do it, i.e. the changed part of `after` contains an
 * object member set to `null` (RFC 7396 reads `null` as delete). Callers then record the whole
 * document instead.
 */
export function diffToMergePatch(
  before: JsonValue | undefined,
  after: JsonValue,
): JsonValue | undefined {
  if (!isJsonObject(after)) return cloneJson(after);
  // Applying an object patch to a non-object resets it to {} first, so the patch is `after` itself.
  if (!isJsonObject(before)) return hasNullMember(after) ? undefined : cloneJson(after);
  const patch: JsonObject = {};
  for (const key of Object.keys(before)) {
    if (!Object.hasOwn(after, key)) defineMember(patch, key, null);
  }
  for (const [key, value] of Object.entries(after)) {
    const old = getMember(before, key);
    if (old !== undefined && jsonEqual(old, value)) continue;
    if (value === null) return undefined;
    const member = diffToMergePatch(old, value);
    if (member === undefined) return undefined;
    defineMember(patch, key, member);
  }
  return patch;
}
