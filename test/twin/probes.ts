/**
 * Deterministic waits for asynchronous effects, instead of sleeps.
 *
 * - A device's `publishAsync` resolves on the *broker's* PUBACK, which says the broker has the
 *   message, not that the server applied it; and on the shared Mosquitto every running test app
 *   (one per test file) ingests every device's messages. So a test waits for its own app's bridge
 *   to have settled the report (its transaction committed).
 * - A GraphQL subscription listens only once graphql-ws has started iterating it; a test waits for
 *   that before causing the event it expects.
 * Both observe the real objects (the bridge's settled-message hook, the event bus): nothing is mocked.
 */
import type { EventBus } from '../../src/events/pubsub.js';
import type { PulseEventName } from '../../src/events/events.js';
import type { SettledMessage } from '../../src/mqtt/bridge.js';
import type { TestApp } from '../harness/app.js';

/**
 * Resolves with this app's outcome for the next twin report of the device, once the bridge has
 * settled it (its transaction committed). Call it before publishing. The outcome is this app's:
 * when another test app applied the report first, this one sees it as a duplicate.
 */
export function nextTwinReport(app: TestApp, tenantId: string, deviceId: string): Promise<SettledMessage['outcome']> {
  const topic = `pulse/${tenantId}/${deviceId}/twin/reported`;
  return new Promise((resolve) => {
    const stop = app.pulse.app.bridge.onSettled((message) => {
      if (message.topic !== topic) return;
      stop();
      resolve(message.outcome);
    });
  });
}

type ListenWaiter = { name: PulseEventName; tenantId: string; resolve: () => void };
const wrappedBuses = new WeakMap<EventBus, Set<ListenWaiter>>();

/**
 * Resolves once a subscriber of `name` for `tenantId` is listening on the app's event bus, i.e.
 * graphql-ws has pulled the subscription's first value (the in-process pub/sub attaches its
 * listener synchronously then). Call it before starting the subscription.
 */
export function nextListener(app: TestApp, name: PulseEventName, tenantId: string): Promise<void> {
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
          return {
            next() {
              const result = iterator.next();
              for (const waiter of listeners) {
                if (waiter.name !== eventName || waiter.tenantId !== tenant) continue;
                listeners.delete(waiter);
                waiter.resolve();
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
  return new Promise<void>((resolve) => set.add({ name, tenantId, resolve }));
}

/** The value of a counter sample in the app's /metrics text, 0 when absent. */
export async function metricValue(app: TestApp, name: string, labels: Record<string, string>): Promise<number> {
  const response = await fetch(`http://127.0.0.1:${app.port}/metrics`);
  const text = await response.text();
  const wanted = Object.entries(labels).map(([key, value]) => `${key}="${value}"`);
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    const labelText = line.slice(name.length + 1, line.indexOf('}'));
    const parts = labelText.split(',');
    if (wanted.every((label) => parts.includes(label))) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return 0;
}
