import { parse, validate } from 'graphql';
import { describe, expect, test } from 'vitest';
import { FLEET_PAGE_OPERATIONS, FLEET_PAGE_SCRIPT } from '../../src/http/fleet-page-script.js';
import { composeModules } from '../../src/platform/compose.js';
import { pulseModules } from '../../src/modules/index.js';

describe('the fleet page script', () => {
  const { schema } = composeModules(pulseModules);

  test.each(Object.entries(FLEET_PAGE_OPERATIONS))('its %s operation is valid against the schema', (_name, operation) => {
    expect(validate(schema, parse(operation)).map((error) => error.message)).toEqual([]);
  });

  test('is plain script the browser runs as served, with the operations inlined', () => {
    // Parsing it as a function body is what a browser does first; no module syntax, no build step.
    expect(() => new Function(FLEET_PAGE_SCRIPT)).not.toThrow();
    for (const operation of Object.values(FLEET_PAGE_OPERATIONS)) expect(FLEET_PAGE_SCRIPT).toContain(JSON.stringify(operation));
  });
});
