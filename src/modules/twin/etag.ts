/**
 * ETags for twin desired state. The tag is the desired version in decimal, quoted (`"7"`): strong,
 * stable for a given version, and canonical (no leading zeros), so tags compare as strings and
 * parse back to the exact version for If-Match style `expectedVersion` checks.
 */

// Canonical decimal only: `"07"` would be a second spelling of version 7.
const ETAG_PATTERN = /^(?:W\/)?"(0|[1-9][0-9]*)"$/;

/**
 * The ETag of a twin at `version`, e.g. `twinEtag(7) === '"7"'`.
 *
 * @throws RangeError when `version` is not a non-negative safe integer (a programming error:
 *   versions come from the database).
 */
export function twinEtag(version: number): string {
  if (!Number.isSafeInteger(version) || version < 0) {
    throw new RangeError(`twin version must be a non-negative safe integer, got ${version}`);
  }
  return `"${version}"`;
}

/**
 * The version an ETag names, or `null` when it is not one of ours. Accepts `"7"` and the weak form
 * `W/"7"` (intermediaries may weaken tags) with surrounding whitespace; rejects unquoted numbers,
 * `*`, lists, leading zeros, signs, fractions and anything beyond `Number.MAX_SAFE_INTEGER`.
 */
export function parseEtag(etag: string | null | undefined): number | null {
  if (typeof etag !== 'string') return null;
  const match = ETAG_PATTERN.exec(etag.trim());
  if (match === null) return null;
  const version = Number(match[1]);
  return Number.isSafeInteger(version) ? version : null;
}

/** True when `etag` names exactly `version` (weak and strong forms alike). */
export function etagMatches(etag: string | null | undefined, version: number): boolean {
  return parseEtag(etag) === version;
}
