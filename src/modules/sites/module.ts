import { defineModule } from '../../platform/module.js';
import * as schema from './schema.js';

/** Sites: where devices are installed. */
export const sitesModule = defineModule({ name: 'sites', schema: [schema] });
