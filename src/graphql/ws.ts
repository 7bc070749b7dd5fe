import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import { GraphQLError, type ExecutionArgs, type ExecutionResult } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer, type WebSocket } from 'ws';
import type { TokenVerifier } from '../auth/jwt.js';
import type { Metrics } from '../http/metrics.js';
import { jsonTextDepthExceeds } from '../kernel/json.js';
import type { Logger } from '../logger.js';
import { subscriptionArgumentErrors } from './argument-guard.js';
import type { GraphQLContext } from './context.js';
import { MAX_REQUEST_JSON_DEPTH } from './request-bounds.js';
import { canonicalJson, SharedSubscriptions, type SubscriberDelivery } from './shared-subscriptions.js';
import type { PulseYoga } from './yoga.js';

interface EnvelopedRoot {
  execute: (args: ExecutionArgs) => unknown;
  subscribe: (args: ExecutionArgs) => unknown;
}

export interface WebSocketOptions {
  /** Largest message accepted (`GRAPHQL_MAX_REQUEST_BYTES`, as for HTTP bodies); larger closes with 1009. */
  maxPayloadBytes: number;
  /** Checks of one operation that need its variables (cost); an error refuses that operation only. */
  checkOperation: (args: ExecutionArgs) => GraphQLError | null;
  logger: Logger;
}

function isAsyncIterable(value: unknown): value is AsyncIterable<ExecutionResult> {
  return typeof value === 'object' && value !== null && Symbol.asyncIterator in value;
}

/** Sockets still open this long after the server said "going away" (1001) are cut. */
const CLOSE_GRACE_MS = 1_000;

/**
 * A message nested deeper than a request may be is refused before graphql-ws parses it: the
 * socket closes with 4400, as graphql-ws itself answers a message it cannot read.
 */
function refuseDeepMessages(socket: WebSocket): void {
  const on = socket.on.bind(socket);
  socket.on = ((event: string, listener: (...args: unknown[]) => void) => {
    if (event !== 'message') return on(event, listener);
    return on('message', (data: unknown, isBinary: unknown) => {
      if (jsonTextDepthExceeds(String(data), MAX_REQUEST_JSON_DEPTH)) {
        socket.close(4400, `JSON nested deeper than ${MAX_REQUEST_JSON_DEPTH} levels`);
        return;
      }
      listener(data, isBinary);
    });
  }) as WebSocket['on'];
}

/**
 * graphql-ws on the same port and path as HTTP. Every message goes through yoga's envelop
 * pipeline (`getEnveloped`), so auth, limits, masking and the tenant transaction apply to
 * WebSocket operations exactly as to HTTP ones. The token comes in `connectionParams.authorization`.
 * Whatever is wrong with one `subscribe` (it does not parse, breaks a limit, fails unexpectedly)
 * is an `error` message for that operation's id: the socket and its other subscriptions live on.
 * Subscriptions whose results must be equal (tenant, role, document, variables) share one
 * execution per event and one serialised message (shared-subscriptions.ts).
 */
export function attachGraphQLWebSocket(server: Server, yoga: PulseYoga, verifier: TokenVerifier, metrics: Metrics, options: WebSocketOptions) {
  const wsServer = new WebSocketServer({ server, path: yoga.graphqlEndpoint, maxPayload: options.maxPayloadBytes });
  // Registered before graphql-ws's own connection listener, so its message listener is wrapped.
  wsServer.on('connection', refuseDeepMessages);
  const unexpected = (error: unknown): GraphQLError => {
    const errorId = randomUUID();
    options.logger.error({ err: error, errorId }, 'unexpected error in a WebSocket operation');
    return new GraphQLError(`Unexpected error (logged with id ${errorId})`, { extensions: { code: 'INTERNAL_SERVER_ERROR', errorId } });
  };
  const asErrors = (error: unknown): GraphQLError[] =>
    [error instanceof Error && error.name === 'GraphQLError' ? (error as GraphQLError) : unexpected(error)];
  const shared = new SharedSubscriptions();
  /** Filled in `onSubscribe` for the `subscribe` call graphql-ws makes next with the same arguments. */
  const deliveries = new WeakMap<ExecutionArgs, SubscriberDelivery & { shareKey: string }>();
  const disposable = useServer(
    {
      execute: (args) => runOperation(args, 'execute'),
      subscribe: (args) => subscribeShared(args),
      onConnect: async (ctx) => {
        const authorization = ctx.connectionParams?.['authorization'];
        // Refuse at connection time (close 4403 Forbidden) rather than accept a socket that can do
        // nothing; each operation is authenticated again by the context factory (tokens expire).
        return verifier.verify(typeof authorization === 'string' ? authorization : undefined).then(
          () => true,
          () => false,
        );
      },
      onSubscribe: async (ctx, id, params) => {
        try {
          const { schema, execute, subscribe, contextFactory, parse, validate } = yoga.getEnveloped({
            ...ctx,
            req: ctx.extra.request,
            socket: ctx.extra.socket,
            params,
            connectionParams: ctx.connectionParams,
          });
          // Parse and validate before the context: a bad document costs no token check or rate-limit slot.
          const document = parse(params.query);
          const errors = validate(schema, document);
          if (errors.length) return [...errors];
          // An expired token or a rate limit: a GraphQLError for this operation, the socket stays.
          const contextValue = await contextFactory();
          const args: ExecutionArgs = {
            schema,
            operationName: params.operationName,
            document,
            variableValues: params.variables,
            contextValue,
            rootValue: { execute, subscribe } satisfies EnvelopedRoot,
          };
          const refused = subscriptionArgumentErrors(args);
          if (refused.length > 0) return refused;
          const refusal = options.checkOperation(args);
          if (refusal) return [refusal];
          // What decides a subscription's results: what RLS shows (tenant, role; no resolver reads
          // the actor or the principal) and the operation with its variables. Equal keys share.
          const { scope } = contextValue as unknown as GraphQLContext;
          const shareKey = [scope.tenantId ?? '', scope.role, params.operationName ?? '', canonicalJson(params.variables ?? {}), params.query].join('\u0000');
          deliveries.set(args, { socket: ctx.extra.socket, id, shareKey });
          return args;
        } catch (error) {
          return asErrors(error);
        }
      },
      onOperation: () => {
        metrics.subscriptions.inc();
      },
      onComplete: () => {
        metrics.subscriptions.dec();
      },
    },
    wsServer,
  );

  /** Runs through yoga's envelop; a throw becomes an error result, never a socket-closing exception. */
  async function runOperation(args: ExecutionArgs, kind: keyof EnvelopedRoot): Promise<never> {
    try {
      return (await (args.rootValue as EnvelopedRoot)[kind](args)) as never;
    } catch (error) {
      return { errors: asErrors(error) } as never;
    }
  }

  /**
   * Runs this subscriber's own subscribe phase (authorisation, arguments, NotFound: its own errors),
   * then joins the group of subscribers whose results are the same as its own would be.
   */
  async function subscribeShared(args: ExecutionArgs): Promise<never> {
    const own = await runOperation(args, 'subscribe');
    const delivery = deliveries.get(args);
    if (!delivery || !isAsyncIterable(own)) return own;
    return shared.join(delivery.shareKey, own, delivery) as never;
  }

  return {
    /**
     * Says "going away" (1001) to every client, gives them {@link CLOSE_GRACE_MS} to answer, then
     * cuts the rest: a peer that vanished mid-close must not hold the stop for ws' 30 s close timeout.
     */
    async close() {
      const disposed = disposable.dispose();
      const cut = setTimeout(() => {
        for (const client of wsServer.clients) client.terminate();
      }, CLOSE_GRACE_MS);
      try {
        await disposed;
      } finally {
        clearTimeout(cut);
      }
    },
  };
}
