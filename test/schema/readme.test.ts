import { readFile } from 'node:fs/promises';
import { parse, validate } from 'graphql';
import { describe, expect, test } from 'vitest';
import { pulseModules } from '../../src/modules/index.js';
import { composeModules } from '../../src/platform/compose.js';

const { schema } = composeModules(pulseModules);

/** The README's example operations are the first thing a newcomer pastes into GraphiQL: keep them valid. */
describe('README examples', async () => {
  const readme = await readFile(new URL('../../README.md', import.meta.url), 'utf8');
  const blocks = [...readme.matchAll(/```graphql\n([\s\S]*?)```/g)].map((match) => match[1]!);

  test('there are examples', () => {
    expect(blocks.length).toBeGreaterThanOrEqual(3);
  });

  test.each(blocks.map((block, index) => [index, block] as const))('example %i validates against the schema', (_index, block) => {
    const errors = validate(schema, parse(block)).map((error) => error.message);
    expect(errors).toEqual([]);
  });
});
