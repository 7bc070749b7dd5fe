/**
 * Per-key "last updated" metadata for a twin document, shaped like AWS IoT shadow metadata: a tree
 * mirroring the document whose leaves are `{ "$lastUpdated": "<ISO-8601>" }`.
 *
 * Leaves are the same as the delta's: scalars, `null`, arrays (one timestamp for the whole array)
 * and empty objects. A leaf node is recognised by `$lastUpdated` holding a string; a document key
 * that is itself named `$lastUpdated` mirrors to an object node, so the two cannot be confused.
 */
import { defineMember, getMember, isJsonObject, jsonEqual, type JsonObject, type JsonValue } from './json.js';
import { joinPath, pathsOverlap, ROOT_PATH } from './paths.js';

/** Metadata of one leaf. */
export type MetadataLeaf = { $lastUpdated: string };

/** Metadata of an object: one node per member. */
export type TwinMetadata = { [key: string]: TwinMetadataNode };

/** Metadata of any value in a document. */
export type TwinMetadataNode = MetadataLeaf | TwinMetadata;

/** True when `node` is a leaf's metadata (`$lastUpdated` is a string). */
export function isMetadataLeaf(node: unknown): node is MetadataLeaf {
  return isJsonObject(node) && typeof getMember(node, '$lastUpdated') === 'string';
}

/**
 * Metadata for `after`, carried over from `previous`.
 *
 * A leaf keeps its previous timestamp when its value is unchanged from `before` (deep equality)
 * and no path in `touchedPaths` overlaps it; otherwise it gets `now`. Paths missing from `after`
 * are dropped, so deleted keys lose their metadata. Unusable previous metadata (missing, from an
 * older shape) only costs timestamps: the affected leaves get `now`.
 *
 * @param previous the stored metadata (any JSON; read defensively)
 * @param before the document `previous` describes, `null`/`undefined` if none
 * @param after the document being stored
 * @param touchedPaths paths a write declared (e.g. `mergePatchPaths`): their leaves get `now` even
 *   when the value did not change, the way a device re-reporting a value refreshes its timestamp
 */
export function updateMetadata(
  previous: JsonValue | TwinMetadata | null | undefined,
  before: JsonValue | null | undefined,
  after: JsonObject,
  now: Date,
  touchedPaths: Iterable<string> = [],
): TwinMetadata {
  const context: Context = { iso: now.toISOString(), touched: [...new Set(touchedPaths)] };
  return mirror(previous, before ?? undefined, after, ROOT_PATH, context);
}

type Context = { iso: string; touched: string[] };

function mirror(
  previous: unknown,
  before: JsonValue | undefined,
  after: JsonObject,
  path: string,
  context: Context,
): TwinMetadata {
  const out: TwinMetadata = {};
  const previousObject = isJsonObject(previous) && !isMetadataLeaf(previous) ? previous : undefined;
  for (const [key, value] of Object.entries(after)) {
    const childPath = joinPath(path, key);
    const previousNode: unknown = previousObject === undefined ? undefined : getMember(previousObject, key);
    const old = isJsonObject(before) ? getMember(before, key) : undefined;
    if (isJsonObject(value) && Object.keys(value).length > 0) {
      defineMember(out, key, mirror(previousNode, old, value, childPath, context));
      continue;
    }
    const keep =
      isMetadataLeaf(previousNode) &&
      old !== undefined &&
      jsonEqual(old, value) &&
      !context.touched.some((touched) => pathsOverlap(touched, childPath));
    defineMember(out, key, { $lastUpdated: keep ? previousNode.$lastUpdated : context.iso });
  }
  return out;
}

/**
 * The `$lastUpdated` timestamp of the leaf at `segments` (keys, outermost first), or `null` when
 * the metadata has no leaf there.
 */
export function lastUpdatedAt(metadata: JsonValue | TwinMetadata | undefined, segments: readonly string[]): string | null {
  let node: unknown = metadata;
  for (const key of segments) {
    if (!isJsonObject(node) || isMetadataLeaf(node)) return null;
    node = getMember(node, key);
  }
  return isMetadataLeaf(node) ? node.$lastUpdated : null;
}
