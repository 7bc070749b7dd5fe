import { z } from 'zod';

/**
 * Tenant, device, site and group identifiers: they appear in MQTT topics, so no `/`, `+`, `#`
 * or whitespace, and they start with a letter or digit.
 */
export const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

export const idSchema = z
  .string()
  .regex(ID_PATTERN, 'must be 1–128 characters: letters, digits and . _ : - (starting with a letter or digit)');
