/**
 * Knowing that a GraphQL subscription is really listening before a test causes its event: a
 * subscription listens only once graphql-ws has pulled its first value, which is after its
 * `subscribe` message was answered by nothing observable. The app's real event bus is wrapped
 * (nothing is mocked) so the test learns the moment a listener attaches.
 */
import type { EventBus } from '../../src/events/pubsub.js';
import type { PulseEventName } from '../../src/events/events.js';
import type { TestApp } from './app.js';

type ListenWaiter = { name: PulseEventName; tenantId: string; remaining: number; resolve: () => void };
const wrappedBuses = new WeakMap<EventBus, Set<ListenWaiter>>();

/**
 * Resolves once `count` subscribers of `name` for `tenantId` are listening on the app's event bus
 * (the in-process pub/sub attaches a listener when its iterator is first pulled). Call it before
 * starting the subscriptions.
 */
export function nextListener(app: TestApp, name: PulseEventName, tenantId: string, count = 1): Promise<void> {
  const bus = app.pulse.app.events;
  let waiters = wrappedBuses.get(bus);
  if (!waiters) {
    const listeners = (waiters = new Set());
    wrappedBuses.set(bus, listeners);
    const subscribe = bus.subscribe.bind(bus);
    bus.subscribe = ((eventName: PulseEventName, tenant: string) => {
      const source = subscribe(eventName, tenant);
      return {
        [Symbol.asyncIterator]() {
          const iterator = source[Symbol.asyncIterator]();
          let first = true;
          return {
            next() {
              const result = iterator.next();
              if (first) {
                first = false;
                for (const waiter of listeners) {
                  if (waiter.name !== eventName || waiter.tenantId !== tenant) continue;
                  waiter.remaining -= 1;
                  if (waiter.remaining > 0) continue;
                  listeners.delete(waiter);
                  waiter.resolve();
                }
              }
              return result;
            },
            return: (value?: unknown) => iterator.return?.(value) ?? Promise.resolve({ done: true as const, value: undefined }),
          };
        },
      };
    }) as EventBus['subscribe'];
  }
  const set = waiters;
  return new Promise<void>((resolve) => set.add({ name, tenantId, remaining: count, resolve }));
}
