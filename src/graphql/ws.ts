import type { Server } from 'node:http';
import type { ExecutionArgs, GraphQLError } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import type { TokenVerifier } from '../auth/jwt.js';
import type { Metrics } from '../http/metrics.js';
import type { PulseYoga } from './yoga.js';

interface EnvelopedRoot {
  execute: (args: ExecutionArgs) => unknown;
  subscribe: (args: ExecutionArgs) => unknown;
}

/**
 * graphql-ws on the same port and path as HTTP. Every message goes through yoga's envelop
 * pipeline (`getEnveloped`), so auth, armor limits, masking and the tenant transaction apply to
 * WebSocket operations exactly as to HTTP ones. The token comes in `connectionParams.authorization`.
 */
export function attachGraphQLWebSocket(server: Server, yoga: PulseYoga, verifier: TokenVerifier, metrics: Metrics) {
  const wsServer = new WebSocketServer({ server, path: yoga.graphqlEndpoint, maxPayload: 1_000_000 });
  const disposable = useServer(
    {
      execute: (args) => (args.rootValue as EnvelopedRoot).execute(args as ExecutionArgs) as never,
      subscribe: (args) => (args.rootValue as EnvelopedRoot).subscribe(args as ExecutionArgs) as never,
      onConnect: async (ctx) => {
        const authorization = ctx.connectionParams?.['authorization'];
        // Refuse at connection time (close 4403 Forbidden) rather than accept a socket that can do
        // nothing; each operation is authenticated again by the context factory (tokens expire).
        return verifier.verify(typeof authorization === 'string' ? authorization : undefined).then(
          () => true,
          () => false,
        );
      },
      onSubscribe: async (ctx, _id, params) => {
        const { schema, execute, subscribe, contextFactory, parse, validate } = yoga.getEnveloped({
          ...ctx,
          req: ctx.extra.request,
          socket: ctx.extra.socket,
          params,
          connectionParams: ctx.connectionParams,
        });
        let contextValue: unknown;
        try {
          contextValue = await contextFactory();
        } catch (error) {
          // An expired token or a rate limit: tell this operation, keep the socket.
          if (error instanceof Error && error.name === 'GraphQLError') return [error as GraphQLError];
          throw error;
        }
        const args: ExecutionArgs = {
          schema,
          operationName: params.operationName,
          document: parse(params.query),
          variableValues: params.variables,
          contextValue,
          rootValue: { execute, subscribe } satisfies EnvelopedRoot,
        };
        const errors = validate(args.schema, args.document);
        if (errors.length) return errors;
        return args;
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
  return {
    async close() {
      await disposable.dispose();
      await new Promise<void>((resolve) => wsServer.close(() => resolve()));
    },
  };
}
