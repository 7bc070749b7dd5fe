/**
 * Dotted paths into twin documents (`config.network.apn`), used by the delta, conflict detection
 * and metadata.
 *
 * Escaping: a key made only of `A-Z a-z 0-9 _ -` is written as is, joined with `.`. Any other key
 * (dots, spaces, brackets, quotes, non-ASCII, the empty string) is bracket-quoted with its JSON
 * string literal and no leading dot: `a["x.y"]`, `["weird key"]`, `a[""]`, `a["\""]`. Because a
 * JSON string literal is self-delimiting and plain keys are never quoted, every key sequence has
 * exactly one spelling, so two paths are equal exactly when their strings are equal.
 *
 * The root (the whole document) is the empty path `''`; a top-level empty key is `[""]`.
 * Arrays are leaves: paths never index into them.
 */

/** The path of the whole document. */
export const ROOT_PATH = '';

const PLAIN_KEY = /^[A-Za-z0-9_-]+$/;
const PLAIN_PREFIX = /[A-Za-z0-9_-]+/y;

/** The spelling of one key inside a path: plain, or a bracket-quoted JSON string. */
function keyToken(key: string): string {
  return PLAIN_KEY.test(key) ? key : `[${JSON.stringify(key)}]`;
}

/** Path of member `key` under `parent` (use {@link ROOT_PATH} for top-level keys). */
export function joinPath(parent: string, key: string): string {
  const token = keyToken(key);
  if (token.startsWith('[') || parent === ROOT_PATH) return parent + token;
  return `${parent}.${token}`;
}

/** Number of characters `joinPath(parent, key)` adds to `parent`, without building the string. */
export function joinedKeyLength(parentIsRoot: boolean, key: string): number {
  if (PLAIN_KEY.test(key)) return parentIsRoot ? key.length : key.length + 1;
  return JSON.stringify(key).length + 2;
}

/** Path built from a list of keys, outermost first. */
export function pathFromSegments(segments: Iterable<string>): string {
  let path = ROOT_PATH;
  for (const segment of segments) path = joinPath(path, segment);
  return path;
}

/**
 * Keys of a path, outermost first (`''` gives `[]`). Returns `null` for anything
 * {@link joinPath} cannot produce, including non-canonical spellings such as `["a"]` for `a`.
 */
export function parsePath(path: string): string[] | null {
  const segments: string[] = [];
  let i = 0;
  while (i < path.length) {
    if (path[i] === '[') {
      if (path[i + 1] !== '"') return null;
      let end = i + 2;
      // Skip escaped characters so an escaped quote does not end the literal.
      while (end < path.length && path[end] !== '"') end += path[end] === '\\' ? 2 : 1;
      if (path[end + 1] !== ']') return null;
      const literal = path.slice(i + 1, end + 1);
      let key: unknown;
      try {
        key = JSON.parse(literal);
      } catch {
        return null;
      }
      if (typeof key !== 'string' || keyToken(key) !== `[${literal}]`) return null;
      segments.push(key);
      i = end + 2;
      continue;
    }
    if (segments.length > 0) {
      if (path[i] !== '.') return null;
      i += 1;
    }
    PLAIN_PREFIX.lastIndex = i;
    const match = PLAIN_PREFIX.exec(path);
    if (match === null) return null;
    segments.push(match[0]);
    i += match[0].length;
  }
  return segments;
}

/**
 * Orders paths key by key (code-unit order per key), an ancestor before its descendants, so that
 * a subtree stays contiguous. Unparsable paths fall back to plain string order, after valid ones.
 */
export function comparePaths(a: string, b: string): number {
  const left = parsePath(a);
  const right = parsePath(b);
  if (left === null || right === null) {
    if (left !== right) return left === null ? 1 : -1;
    return a < b ? -1 : a > b ? 1 : 0;
  }
  const shared = Math.min(left.length, right.length);
  for (let i = 0; i < shared; i += 1) {
    const x = left[i]!;
    const y = right[i]!;
    if (x !== y) return x < y ? -1 : 1;
  }
  return left.length - right.length;
}

/**
 * True when `ancestor` is a strict ancestor of `path`. A string-prefix test is enough because
 * the next character after a complete path is always `.` or `[` in a descendant, and a quoted
 * key cannot end early (see the module comment). Both arguments must come from {@link joinPath}.
 */
export function isAncestorPath(ancestor: string, path: string): boolean {
  if (path.length <= ancestor.length || !path.startsWith(ancestor)) return false;
  if (ancestor === ROOT_PATH) return true;
  const next = path[ancestor.length];
  return next === '.' || next === '[';
}

/** True when the two paths are equal or one is an ancestor of the other (a write to one affects the other). */
export function pathsOverlap(a: string, b: string): boolean {
  return a === b || isAncestorPath(a, b) || isAncestorPath(b, a);
}

/**
 * The paths touched by a write that overlap a path changed since the writer's expected version:
 * unique, sorted with {@link comparePaths}. Empty means the write does not collide.
 */
export function conflictingPaths(
  changedSinceExpected: Iterable<string>,
  touchedByWrite: Iterable<string>,
): string[] {
  const changed = [...new Set(changedSinceExpected)];
  const conflicts = new Set<string>();
  for (const path of touchedByWrite) {
    if (changed.some((other) => pathsOverlap(other, path))) conflicts.add(path);
  }
  return [...conflicts].sort(comparePaths);
}
