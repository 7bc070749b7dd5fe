import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';

/** A graphql-ws client against a running app, authenticated through connectionParams. */
export function wsClient(port: number, token: string | null): Client {
  return createClient({
    url: `ws://127.0.0.1:${port}/graphql`,
    webSocketImpl: WebSocket,
    connectionParams: token ? { authorization: `Bearer ${token}` } : {},
    retryAttempts: 0,
    lazy: true,
  });
}

export interface Subscription<T> {
  /** Resolves with the next event, or rejects on error/completion. */
  next(): Promise<T>;
  /** Resolves once the server acknowledged the subscription, so events published after it are seen. */
  ready: Promise<void>;
  close(): Promise<void>;
}

/**
 * Subscribes and buffers events. `ready` waits for a connection acknowledgement plus one round
 * trip through the server (a trivial query), so the subscription is registered before the test
 * triggers the event it expects — no sleeps.
 */
export function subscribe<T>(client: Client, query: string, variables: Record<string, unknown> = {}): Subscription<T> {
  const iterator = client.iterate<T>({ query, variables });
  const buffered: Array<Promise<IteratorResult<{ data?: T | null; errors?: unknown }>>> = [];
  const ready = (async () => {
    await client.iterate({ query: '{ __typename }' }).next();
  })();
  return {
    ready,
    async next() {
      const result = await (buffered.shift() ?? iterator.next());
      if (result.done) throw new Error('subscription completed');
      if (result.value.errors) throw new Error(`subscription error: ${JSON.stringify(result.value.errors)}`);
      return result.value.data as T;
    },
    async close() {
      await iterator.return?.();
    },
  };
}
