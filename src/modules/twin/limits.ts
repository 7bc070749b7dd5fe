/**
 * Size and shape limits for twin documents. Checked on the document that would be stored (for a
 * merge write: the result of applying the patch), so a patch cannot grow a document past a limit.
 */
import { isJsonObject, isJsonValue, jsonByteSize, type JsonValue } from './json.js';
import { joinedKeyLength } from './paths.js';

/** Limits on one twin document (desired or reported). */
export type TwinLimits = {
  /** UTF-8 bytes of the document's `JSON.stringify` form. */
  maxDocumentBytes: number;
  /** Nesting depth, the top-level object counting as 1 and arrays counting as levels. */
  maxDepth: number;
  /** Characters in the longest dotted path (as `joinPath` spells it) to an object member. */
  maxPathLength: number;
};

/** Defaults used for any limit not given. */
export const DEFAULT_TWIN_LIMITS: Readonly<TwinLimits> = Object.freeze({
  maxDocumentBytes: 32_768,
  maxDepth: 10,
  maxPathLength: 512,
});

/** Machine-readable reason of a {@link TwinDocumentIssue}. */
export type TwinIssueCode = 'NOT_AN_OBJECT' | 'NOT_JSON' | 'TOO_LARGE' | 'TOO_DEEP' | 'PATH_TOO_LONG';

/**
 * One problem with a document. `path` starts with `'desired'` or `'reported'` (as in a mutation's
 * input) followed by the keys leading to the problem; array elements appear as their index.
 */
export type TwinDocumentIssue = { path: string[]; code: TwinIssueCode; message: string };

/** At most this many `PATH_TOO_LONG` issues are listed, so a hostile document cannot flood errors. */
export const MAX_PATH_ISSUES = 10;

type Frame = {
  value: JsonValue;
  key: string;
  parent: Frame | null;
  /** Containers from the root down to and including this value, if it is one. */
  depth: number;
  /** Length of the dotted path, or -1 inside arrays (arrays are leaves; paths do not enter them). */
  pathLength: number;
};

function segmentsOf(frame: Frame): string[] {
  const keys: string[] = [];
  for (let at: Frame | null = frame; at !== null && at.parent !== null; at = at.parent) keys.push(at.key);
  return keys.reverse();
}

/**
 * Checks a twin document against the limits. An empty list means it is acceptable.
 *
 * The top level must be a JSON object (`NOT_AN_OBJECT`) made of JSON values only (`NOT_JSON`:
 * `undefined`, non-finite numbers, class instances, cycles); either stops further checks. Then it
 * reports the first place nesting exceeds `maxDepth` (`TOO_DEEP`), up to {@link MAX_PATH_ISSUES}
 * over-long member paths (`PATH_TOO_LONG`), and an over-size document (`TOO_LARGE`).
 *
 * @param limits any limits left out take {@link DEFAULT_TWIN_LIMITS}
 * @param which which document this is; it heads every issue path and message
 */
export function checkTwinDocument(
  doc: unknown,
  limits: Partial<TwinLimits>,
  which: 'desired' | 'reported',
): TwinDocumentIssue[] {
  const { maxDocumentBytes, maxDepth, maxPathLength } = { ...DEFAULT_TWIN_LIMITS, ...limits };
  const issue = (segments: string[], code: TwinIssueCode, message: string): TwinDocumentIssue => ({
    path: [which, ...segments],
    code,
    message: `${which}: ${message}`,
  });
  if (!isJsonObject(doc)) return [issue([], 'NOT_AN_OBJECT', 'the document must be a JSON object')];
  if (!isJsonValue(doc)) {
    return [issue([], 'NOT_JSON', 'the document contains values that are not JSON')];
  }

  const issues: TwinDocumentIssue[] = [];
  let tooDeep = false;
  let longPaths = 0;
  // Iterative walk in document order: depth is exactly what an attacker controls.
  const stack: Frame[] = [{ value: doc, key: '', parent: null, depth: 1, pathLength: 0 }];
  while (stack.length > 0) {
    const frame = stack.pop()!;
    const { value } = frame;
    if (frame.parent !== null && frame.pathLength > maxPathLength && longPaths < MAX_PATH_ISSUES) {
      longPaths += 1;
      const text = `path is ${frame.pathLength} characters long; the limit is ${maxPathLength}`;
      issues.push(issue(segmentsOf(frame), 'PATH_TOO_LONG', text));
    }
    if (value === null || typeof value !== 'object') continue;
    if (frame.depth > maxDepth) {
      // Report once and stop descending: deeper levels add nothing but cost.
      if (!tooDeep) {
        tooDeep = true;
        const text = `nesting depth exceeds ${maxDepth}`;
        issues.push(issue(segmentsOf(frame), 'TOO_DEEP', text));
      }
      continue;
    }
    const children: Frame[] = [];
    if (Array.isArray(value)) {
      value.forEach((item, index) => {
        children.push({ value: item, key: String(index), parent: frame, depth: frame.depth + 1, pathLength: -1 });
      });
    } else {
      for (const [key, member] of Object.entries(value)) {
        const pathLength =
          frame.pathLength < 0 ? -1 : frame.pathLength + joinedKeyLength(frame.parent === null, key);
        children.push({ value: member, key, parent: frame, depth: frame.depth + 1, pathLength });
      }
    }
    // Reversed so the stack pops them in document order.
    for (let i = children.length - 1; i >= 0; i -= 1) stack.push(children[i]!);
  }

  let bytes: number | null = null;
  try {
    bytes = jsonByteSize(doc);
  } catch {
    // JSON.stringify only throws here by exhausting the call stack on absurd nesting.
  }
  if (bytes !== null && bytes > maxDocumentBytes) {
    const text = `document is ${bytes} bytes; the limit is ${maxDocumentBytes}`;
    issues.push(issue([], 'TOO_LARGE', text));
  } else if (bytes === null && !tooDeep) {
    issues.push(issue([], 'TOO_LARGE', 'document is too large to serialise'));
  }
  return issues;
}
