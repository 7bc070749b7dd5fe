import { readFile } from 'node:fs/promises';
import { describe, expect, test } from 'vitest';
import { printSchemaSdl } from '../../src/graphql/schema.js';
import { pulseModules } from '../../src/modules/index.js';
import { composeModules } from '../../src/platform/compose.js';

const printPulseSchema = () => printSchemaSdl(composeModules(pulseModules).schema);

describe('schema.graphql', () => {
  test('is the printed Pothos schema: run `npm run schema:print` and commit when this fails', async () => {
    const committed = await readFile(new URL('../../schema.graphql', import.meta.url), 'utf8');
    expect(committed).toBe(printPulseSchema());
  });

  test('exposes the public contract names', () => {
    const sdl = printPulseSchema();
    for (const name of ['device(deviceId: String!', 'devices(', 'node(id: ID!)', 'registerDevice(input: RegisterDeviceInput!)', 'interface Error', 'type ValidationError', 'type NotFound']) {
      expect(sdl).toContain(name);
    }
  });
});
