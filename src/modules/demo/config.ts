import { z } from 'zod';
import { defineConfigSection, env } from '../../config.js';

/**
 * `auto`: seed and animate the demo fleet on the embedded default only (no `DATABASE_URL`, and
 * not under `NODE_ENV=test`);
 * `true`: also on a real database; `false`: never; `reset`: wipe tenant `demo` and seed it again
 * (`npm run demo:reset`).
 */
export type DemoMode = 'auto' | 'on' | 'off' | 'reset';

export interface DemoSettings {
  mode: DemoMode;
}

declare module '../../config.js' {
  interface ModuleSettings {
    demo: DemoSettings;
  }
}

export const demoConfig = defineConfigSection({
  key: 'demo',
  variables: {
    DEMO: z.preprocess(env.emptyToUndefined, z.enum(['auto', 'true', 'false', '1', '0', 'reset']).default('auto')),
  },
  build: (values) => ({
    mode: values.DEMO === 'true' || values.DEMO === '1' ? 'on' : values.DEMO === 'false' || values.DEMO === '0' ? 'off' : values.DEMO,
  }),
});
