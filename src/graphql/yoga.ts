import { EnvelopArmorPlugin } from '@escape.tech/graphql-armor';
import { GraphQLError, NoSchemaIntrospectionCustomRule, type GraphQLSchema } from 'graphql';
import { createYoga, type Plugin, type YogaServerInstance } from 'graphql-yoga';
import { AuthenticationError, type TokenVerifier } from '../auth/jwt.js';
import type { Config } from '../config.js';
import { perQuerySession, type SessionRunner } from '../db/tenant-session.js';
import type { Database } from '../db/database.js';
import type { EventBus } from '../events/pubsub.js';
import type { Metrics } from '../http/metrics.js';
import type { Logger } from '../logger.js';
import type { AppServices } from '../services.js';
import { setUnusedQueryReporter } from './builder.js';
import { scopeOf, type GraphQLContext } from './context.js';
import { useCompiledReads } from './compiled-reads.js';
import { createErrorMasker } from './error-masking.js';
import { DEFAULT_OPERATION_LIMITS, useOperationLimits, type OperationLimits } from './limits.js';
import { useOperationMetrics } from './metrics-plugin.js';
import { RateLimiter } from './rate-limit.js';
import { useRequestBounds } from './request-bounds.js';
import { useTenantTransaction } from './tenant-transaction-plugin.js';

export interface YogaDeps {
  schema: GraphQLSchema;
  config: Pick<Config, 'graphql' | 'nodeEnv'>;
  database: Database;
  runner: SessionRunner;
  events: EventBus;
  verifier: TokenVerifier;
  services: AppServices;
  metrics: Metrics;
  logger: Logger;
}

export type PulseYoga = YogaServerInstance<Record<string, unknown>, GraphQLContext>;

/** What the context factory receives from HTTP (a Request) or from graphql-ws (connectionParams). */
interface InitialContext {
  request?: Request;
  connectionParams?: Record<string, unknown>;
}

/** The limits of one operation, from configuration (GRAPHQL_MAX_TOKENS, GRAPHQL_MAX_DEPTH) and limits.ts. */
export function operationLimits(config: Pick<Config, 'graphql'>): OperationLimits {
  return { ...DEFAULT_OPERATION_LIMITS, maxTokens: config.graphql.maxTokens, maxDepth: config.graphql.maxDepth };
}

/** The GraphQL server: schema, auth, tenant transaction, abuse limits, masking, metrics. */
export function createPulseYoga(deps: YogaDeps): PulseYoga {
  setUnusedQueryReporter(
    deps.config.nodeEnv === 'production' ? null : (field) => deps.logger.warn({ field }, 'Prisma query unused in resolver: a nested selection will cost extra statements'),
  );
  const limiter = new RateLimiter(deps.config.graphql.rateLimitPerMinute);
  const plugins: Plugin[] = [
    // Bodies first (size however framed, JSON nesting), then the operation's own limits (limits.ts);
    // armor only hides field suggestions when the schema is not public.
    useRequestBounds(deps.config.graphql.maxRequestBytes),
    useOperationLimits(operationLimits(deps.config)),
    EnvelopArmorPlugin({
      costLimit: { enabled: false },
      maxAliases: { enabled: false },
      maxDepth: { enabled: false },
      maxDirectives: { enabled: false },
      maxTokens: { enabled: false },
      blockFieldSuggestion: { enabled: !deps.config.graphql.introspection },
    }) as Plugin,
    useOperationMetrics(deps.metrics),
    useTenantTransaction(deps.runner) as Plugin,
  ];
  // After the tenant transaction: a query it cannot compile falls back to that plugin's execution.
  if (deps.config.graphql.compiledReads) plugins.push(useCompiledReads(deps.runner, deps.metrics) as Plugin);
  if (!deps.config.graphql.introspection) {
    plugins.push({ onValidate: ({ addValidationRule }) => addValidationRule(NoSchemaIntrospectionCustomRule) });
  }
  return createYoga<Record<string, unknown>, GraphQLContext>({
    schema: deps.schema,
    graphqlEndpoint: '/graphql',
    landingPage: false,
    // Unexpected errors are logged once, with their id, by the masker; yoga's own logging would repeat them.
    logging: false,
    maskedErrors: { maskError: createErrorMasker(deps.logger) },
    // GraphiQL is served by http/graphiql.ts (inlined, gzipped once); yoga only answers GraphQL.
    graphiql: false,
    plugins,
    context: async (initial: InitialContext): Promise<Omit<GraphQLContext, never>> => {
      const authorization = initial.request?.headers.get('authorization') ?? initial.connectionParams?.['authorization'];
      const principal = await authenticate(deps.verifier, typeof authorization === 'string' ? authorization : undefined);
      if (!limiter.take(`${principal.tenantId}/${principal.subject}`)) {
        throw new GraphQLError('Rate limit exceeded: try again in a minute', {
          extensions: { code: 'RATE_LIMITED', http: { status: 429, headers: { 'retry-after': '60' } } },
        });
      }
      const scope = scopeOf(principal);
      return {
        principal,
        scope,
        // Replaced by the operation's transaction for queries and mutations (useTenantTransaction).
        session: perQuerySession(deps.database, scope),
        runner: deps.runner,
        events: deps.events,
        services: deps.services,
        logger: deps.logger,
      };
    },
  });
}

async function authenticate(verifier: TokenVerifier, authorization: string | undefined) {
  try {
    return await verifier.verify(authorization);
  } catch (error) {
    if (error instanceof AuthenticationError) {
      throw new GraphQLError(error.message, { extensions: { code: 'UNAUTHENTICATED', reason: error.code, http: { status: 401 } } });
    }
    throw error;
  }
}
