import { defineConfigSection, env } from '../../config.js';

export interface TwinSettings {
  /** Largest desired or reported document, in bytes of its JSON text. */
  maxDocumentBytes: number;
  maxDepth: number;
}

declare module '../../config.js' {
  interface ModuleSettings {
    twin: TwinSettings;
  }
}

export const twinConfig = defineConfigSection({
  key: 'twin',
  variables: {
    TWIN_MAX_DOCUMENT_BYTES: env.positiveInt(32_768),
    TWIN_MAX_DEPTH: env.positiveInt(10),
  },
  build: (values) => ({ maxDocumentBytes: values.TWIN_MAX_DOCUMENT_BYTES, maxDepth: values.TWIN_MAX_DEPTH }),
});
