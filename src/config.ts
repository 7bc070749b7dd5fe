import { z } from 'zod';

/** Development secret used only by the embedded default; printed at start-up, never for production. */
export const DEVELOPMENT_JWT_SECRET = 'pulse-development-secret-change-me-0123456789';

const emptyToUndefined = (value: unknown) => (value === '' ? undefined : value);
const optionalUrl = z.preprocess(emptyToUndefined, z.url().optional());
const port = (fallback: number) => z.coerce.number().int().min(0).max(65_535).default(fallback);
const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);
const bool = (fallback: boolean) =>
  z
    .preprocess(emptyToUndefined, z.enum(['true', 'false', '1', '0']).optional())
    .transform((value) => (value === undefined ? fallback : value === 'true' || value === '1'));

/** Value parsers for environment variables, shared by the platform and the modules' config sections. */
export const env = { positiveInt, bool, port, optionalUrl, emptyToUndefined } as const;

/**
 * Each module's settings, by section key. Empty here: a module adds its section by declaration
 * merging next to its {@link ConfigSection}, e.g. `interface ModuleSettings { presence: PresenceSettings }`.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface ModuleSettings {}

/**
 * A module's configuration: its environment variables (zod, with defaults and validation), an
 * optional cross-field check, and the typed section built from them (`config[key]`).
 */
export interface ConfigSection<K extends keyof ModuleSettings = keyof ModuleSettings, Shape extends z.ZodRawShape = z.ZodRawShape> {
  key: K;
  variables: Shape;
  refine?(values: z.output<z.ZodObject<Shape>>, issue: (variable: keyof Shape & string, message: string) => void): void;
  build(values: z.output<z.ZodObject<Shape>>): ModuleSettings[K];
}

/** Declares a config section with its variables' types inferred. */
export function defineConfigSection<K extends keyof ModuleSettings, Shape extends z.ZodRawShape>(section: ConfigSection<K, Shape>): ConfigSection<K, Shape> {
  return section;
}

const environmentSchema = z
  .object({
    NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
    PORT: port(4000),
    HOST: z.string().default('0.0.0.0'),
    DATABASE_URL: optionalUrl,
    /** Owner connection for migrations; defaults to DATABASE_URL. */
    MIGRATION_DATABASE_URL: optionalUrl,
    DATABASE_POOL_SIZE: positiveInt(10),
    /** Named (cached) prepared statements; turn off behind a transaction-mode pooler that cannot keep them. */
    DATABASE_PREPARED_STATEMENTS: bool(true),
    DATA_DIR: z.string().min(1).default('./data'),
    MQTT_URL: optionalUrl,
    MQTT_PORT: port(1883),
    MQTT_USERNAME: z.preprocess(emptyToUndefined, z.string().optional()),
    MQTT_PASSWORD: z.preprocess(emptyToUndefined, z.string().optional()),
    MQTT_CLIENT_ID: z.preprocess(emptyToUndefined, z.string().optional()),
    /** `$share/<group>/` subscriptions so several instances split device traffic. */
    MQTT_SHARED_GROUP: z.preprocess(emptyToUndefined, z.string().regex(/^[A-Za-z0-9_-]+$/).optional()),
    REDIS_URL: optionalUrl,
    JWT_SECRET: z.preprocess(emptyToUndefined, z.string().min(32, 'JWT_SECRET must be at least 32 characters').optional()),
    JWKS_URL: optionalUrl,
    JWT_ISSUER: z.preprocess(emptyToUndefined, z.string().optional()),
    JWT_AUDIENCE: z.preprocess(emptyToUndefined, z.string().optional()),
    GRAPHQL_INTROSPECTION: bool(true),
    GRAPHQL_MAX_DEPTH: positiveInt(12),
    GRAPHQL_MAX_TOKENS: positiveInt(2_000),
    GRAPHQL_MAX_REQUEST_BYTES: positiveInt(1_000_000),
    /** Queries over fields with SQL reads answered by one JSON-building statement (graphql/compiled-reads.ts). */
    GRAPHQL_COMPILED_READS: bool(true),
    RATE_LIMIT_PER_MINUTE: positiveInt(1_200),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  })
  .superRefine((env, ctx) => {
    if (env.NODE_ENV === 'production' && !env.JWT_SECRET && !env.JWKS_URL) {
      ctx.addIssue({ code: 'custom', path: ['JWT_SECRET'], message: 'production needs JWT_SECRET or JWKS_URL' });
    }
  });

export type Environment = z.infer<typeof environmentSchema>;

/** The platform's own settings; modules' sections are added by {@link ModuleSettings}. */
export interface PlatformConfig {
  nodeEnv: Environment['NODE_ENV'];
  http: { port: number; host: string };
  database:
    | { kind: 'postgres'; url: string; migrationUrl: string; poolSize: number; preparedStatements: boolean }
    | { kind: 'pglite'; dataDir: string };
  mqtt:
    | { kind: 'external'; url: string; username?: string; password?: string; clientId?: string; sharedGroup?: string }
    | { kind: 'embedded'; port: number };
  redisUrl?: string;
  auth: { kind: 'secret'; secret: string; isDevelopmentSecret: boolean } | { kind: 'jwks'; url: string };
  jwtIssuer?: string;
  jwtAudience?: string;
  graphql: { introspection: boolean; maxDepth: number; maxTokens: number; maxRequestBytes: number; rateLimitPerMinute: number; compiledReads: boolean };
  logLevel: Environment['LOG_LEVEL'];
}

export type Config = PlatformConfig & ModuleSettings;

/** The platform's settings alone (CLI tools that need no module, e.g. `npm run token`). */
export function loadPlatformConfig(environment: NodeJS.ProcessEnv = process.env): PlatformConfig {
  return loadConfig(environment, []);
}

/** A configuration error listing every bad variable at once, so start-up fails with one clear message. */
export class ConfigError extends Error {
  constructor(readonly issues: string[]) {
    super(`Invalid configuration:\n${issues.map((issue) => `  - ${issue}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/**
 * Parses and validates the environment once, the platform's variables and every module's section;
 * everything else receives the typed result. All problems are reported together.
 */
export function loadConfig(environment: NodeJS.ProcessEnv, modules: ReadonlyArray<{ config?: ConfigSection }>): Config {
  const issues: string[] = [];
  const describe = (error: z.ZodError) => error.issues.map((issue) => `${issue.path.join('.') || 'environment'}: ${issue.message}`);
  const parsed = environmentSchema.safeParse(environment);
  if (!parsed.success) issues.push(...describe(parsed.error));
  const sections: Record<string, unknown> = {};
  for (const section of modules.flatMap((module) => (module.config ? [module.config] : []))) {
    const values = z.object(section.variables).safeParse(environment);
    if (!values.success) {
      issues.push(...describe(values.error));
      continue;
    }
    const before = issues.length;
    section.refine?.(values.data, (variable, message) => issues.push(`${variable}: ${message}`));
    if (issues.length === before) sections[section.key] = section.build(values.data);
  }
  if (issues.length > 0 || !parsed.success) throw new ConfigError(issues);
  const e = parsed.data;
  return {
    ...(sections as unknown as ModuleSettings),
    nodeEnv: e.NODE_ENV,
    http: { port: e.PORT, host: e.HOST },
    database: e.DATABASE_URL
      ? {
          kind: 'postgres',
          url: e.DATABASE_URL,
          migrationUrl: e.MIGRATION_DATABASE_URL ?? e.DATABASE_URL,
          poolSize: e.DATABASE_POOL_SIZE,
          preparedStatements: e.DATABASE_PREPARED_STATEMENTS,
        }
      : { kind: 'pglite', dataDir: e.DATA_DIR },
    mqtt: e.MQTT_URL
      ? {
          kind: 'external',
          url: e.MQTT_URL,
          username: e.MQTT_USERNAME,
          password: e.MQTT_PASSWORD,
          clientId: e.MQTT_CLIENT_ID,
          sharedGroup: e.MQTT_SHARED_GROUP,
        }
      : { kind: 'embedded', port: e.MQTT_PORT },
    redisUrl: e.REDIS_URL,
    auth: e.JWKS_URL
      ? { kind: 'jwks', url: e.JWKS_URL }
      : { kind: 'secret', secret: e.JWT_SECRET ?? DEVELOPMENT_JWT_SECRET, isDevelopmentSecret: !e.JWT_SECRET },
    jwtIssuer: e.JWT_ISSUER,
    jwtAudience: e.JWT_AUDIENCE,
    graphql: {
      introspection: e.GRAPHQL_INTROSPECTION,
      maxDepth: e.GRAPHQL_MAX_DEPTH,
      maxTokens: e.GRAPHQL_MAX_TOKENS,
      maxRequestBytes: e.GRAPHQL_MAX_REQUEST_BYTES,
      rateLimitPerMinute: e.RATE_LIMIT_PER_MINUTE,
      compiledReads: e.GRAPHQL_COMPILED_READS,
    },
    logLevel: e.LOG_LEVEL,
  };
}
