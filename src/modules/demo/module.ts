import { defineModule } from '../../platform/module.js';
import { demoConfig } from './config.js';

/**
 * The demo fleet of tenant `demo` on the embedded default (`DEMO`, see config.ts): seeded once
 * through the API and kept live by simulated devices over MQTT. No schema, topics or tables of
 * its own; the app starts it once it serves (demo.ts), and `npm run simulate` shares its simulator.
 */
export const demoModule = defineModule({ name: 'demo', config: demoConfig });
