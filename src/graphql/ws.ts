import type { Server } from 'node:http';
import type { ExecutionArgs } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
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
export function attachGraphQLWebSocket(server: Server, yoga: PulseYoga, metrics: Metrics) {
  const wsServer = new WebSocketServer({ server, path: yoga.graphqlEndpoint, maxPayload: 1_000_000 });
  const disposable = useServer(
    {
      execute: (args) => (args.rootValue as EnvelopedRoot).execute(args as ExecutionArgs) as never,
      subscribe: (args) => (args.rootValue as EnvelopedRoot).subscribe(args as ExecutionArgs) as never,
      onConnect: (ctx) => {
        const authorization = ctx.connectionParams?.['authorization'];
        // Refuse early (close 4403) rather than accept a socket that can do nothing.
        return typeof authorization === 'string' && authorization.length > 0;
      },
      onSubscribe: async (ctx, _id, params) => {
        const { schema, execute, subscribe, contextFactory, parse, validate } = yoga.getEnveloped({
          ...ctx,
          req: ctx.extra.request,
          socket: ctx.extra.socket,
          params,
          connectionParams: ctx.connectionParams,
        });
        const args: ExecutionArgs = {
          schema,
          operationName: params.operationName,
          document: parse(params.query),
          variableValues: params.variables,
          contextValue: await contextFactory(),
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
