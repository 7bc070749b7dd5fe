import { z } from 'zod';

/**
 * Tenant, device, site, group and command identifiers. They appear in MQTT topics, so each is
 * exactly one literal topic level: no `/`, `+`, `#` ([MQTT-4.7.1-1], [MQTT-4.7.3-1]); the first
 * character is alphanumeric so an ID never starts with `$` (reserved, [MQTT-4.7.2-1]); ASCII, so
 * byte and character lengths agree.
 */
export const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

export const idSchema = z
  .string()
  .regex(ID_PATTERN, 'must be 1–128 characters: letters, digits and . _ : - (starting with a letter or digit)');

/** True when `value` is a usable tenant, device or command ID (see {@link ID_PATTERN}). */
export function isValidId(value: unknown): value is string {
  return typeof value === 'string' && ID_PATTERN.test(value);
}
