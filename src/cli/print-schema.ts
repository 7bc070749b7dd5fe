import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { printSchemaSdl } from '../graphql/schema.js';
import { pulseModules } from '../modules/index.js';
import { composeModules } from '../platform/compose.js';

const target = fileURLToPath(new URL('../../schema.graphql', import.meta.url));
await writeFile(target, printSchemaSdl(composeModules(pulseModules).schema));
console.log(`wrote ${target}`);
