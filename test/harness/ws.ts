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
  close(): Promise<void>;
}

/**
 * Subscribes and returns the event stream. The subscription starts at once; to know that it
 * listens before causing an event, await a `nextListener(...)` promise created before this call.
 */
export function subscribe<T>(client: Client, query: string, variables: Record<string, unknown> = {}): Subscription<T> {
  const iterator = client.iterate<T>({ query, variables });
  const buffered: Array<Promise<IteratorResult<{ data?: T | null; errors?: unknown }>>> = [];
  // graphql-ws sends the subscribe message when the iterator is first pulled: pull now.
  buffered.push(iterator.next());
  return {
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
