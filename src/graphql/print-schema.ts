import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { printPulseSchema } from './schema.js';

const target = fileURLToPath(new URL('../../schema.graphql', import.meta.url));
await writeFile(target, printPulseSchema());
console.log(`wrote ${target}`);
