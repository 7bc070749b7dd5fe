/**
 * Subscribers whose results must be identical (same tenant and role, same document and variables)
 * share one execution per event (src/graphql/shared-subscriptions.ts). What is shared is visible
 * on the app's real event bus: each group listens once. These tests pin when sharing happens,
 * when it must not, and that leaving — politely or by a dead socket — frees the group.
 */
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, test } from '../harness/fixtures.js';
import { startTestApp, type TestApp } from '../harness/app.js';
import { nextListener } from '../harness/listeners.js';
import { REGISTER_DEVICE } from '../harness/operations.js';
import { subscribe, wsClient } from '../harness/ws.js';
import type { EventBus } from '../../src/events/pubsub.js';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(() => app.stop());

const WATCH = `subscription($deviceId: String) { deviceChanged(deviceId: $deviceId) { change deviceId device { name } } }`;

/**
 * Streams listening on the bus per tenant, counted as the app's bus hands them out (attached at
 * their first pull, detached at `return()`); `settled` resolves once `tenantId` has `count`.
 */
function listenersOf(bus: EventBus) {
  const live = new Map<string, number>();
  const waiters = new Set<{ tenantId: string; count: number; resolve: () => void }>();
  const changed = (tenantId: string, delta: number) => {
    live.set(tenantId, (live.get(tenantId) ?? 0) + delta);
    for (const waiter of waiters) {
      if (waiter.tenantId === tenantId && live.get(tenantId) === waiter.count) {
        waiters.delete(waiter);
        waiter.resolve();
      }
    }
  };
  const subscribeOnBus = bus.subscribe.bind(bus);
  bus.subscribe = ((name: 'deviceChanged', tenantId: string) => {
    const source = subscribeOnBus(name, tenantId);
    return {
      [Symbol.asyncIterator]() {
        const iterator = source[Symbol.asyncIterator]();
        let attached = false;
        return {
          next() {
            if (!attached) {
              attached = true;
              changed(tenantId, +1);
            }
            return iterator.next();
          },
          return(value?: unknown) {
            if (attached) {
              attached = false;
              changed(tenantId, -1);
            }
            return iterator.return?.(value) ?? Promise.resolve({ done: true as const, value: undefined });
          },
        };
      },
    };
  }) as EventBus['subscribe'];
  return {
    settled(tenantId: string, count: number): Promise<void> {
      if ((live.get(tenantId) ?? 0) === count) return Promise.resolve();
      return new Promise((resolve) => waiters.add({ tenantId, count, resolve }));
    },
  };
}

let listeners: ReturnType<typeof listenersOf>;
beforeAll(() => {
  listeners = listenersOf(app.pulse.app.events);
});

/** A bare graphql-transport-ws client on `ws`, so a test can cut its socket without a goodbye. */
async function rawSubscriber(token: string, query: string) {
  const socket = new WebSocket(`ws://127.0.0.1:${app.port}/graphql`, 'graphql-transport-ws');
  const received: Array<{ deviceChanged: { deviceId: string } }> = [];
  let notify: (() => void) | undefined;
  socket.on('message', (raw: Buffer) => {
    const message = JSON.parse(raw.toString('utf8')) as { type: string; payload?: { data: { deviceChanged: { deviceId: string } } } };
    if (message.type === 'connection_ack') socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query } }));
    if (message.type === 'next' && message.payload) {
      received.push(message.payload.data);
      notify?.();
    }
  });
  await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
  socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } }));
  return {
    socket,
    async next(): Promise<{ deviceChanged: { deviceId: string } }> {
      while (received.length === 0) await new Promise<void>((resolve) => (notify = resolve));
      return received.shift()!;
    },
    /** Gone without a close frame, as when a client's network drops. */
    cut: () =>
      new Promise<void>((resolve) => {
        socket.once('close', () => resolve());
        socket.terminate();
      }),
  };
}

const register = (token: string, deviceId: string) => app.gql(token, REGISTER_DEVICE, { input: { deviceId, name: deviceId } });

describe('shared subscription execution', () => {
  test('the same tenant, role and operation share one stream; another role or tenant never does', async ({ tenant, otherTenant }) => {
    const clients = [wsClient(app.port, tenant.token), wsClient(app.port, tenant.token), wsClient(app.port, tenant.operatorToken), wsClient(app.port, otherTenant.token)];
    try {
      const listening = Promise.all([nextListener(app, 'deviceChanged', tenant.tenantId, 3), nextListener(app, 'deviceChanged', otherTenant.tenantId)]);
      const [first, second, operator, other] = clients.map((client) => subscribe<{ deviceChanged: { deviceId: string; device: { name: string } | null } }>(client, WATCH));
      await listening;
      // Two customers in one group, the operator in its own; the other tenant on its own channel.
      await Promise.all([listeners.settled(tenant.tenantId, 2), listeners.settled(otherTenant.tenantId, 1)]);

      await register(otherTenant.token, 'theirs');
      await register(tenant.token, 'mine');
      const expected = { deviceChanged: { change: 'REGISTERED', deviceId: 'mine', device: { name: 'mine' } } };
      expect(await Promise.all([first!.next(), second!.next(), operator!.next()])).toEqual([expected, expected, expected]);
      expect((await other!.next()).deviceChanged.deviceId).toBe('theirs');
      await Promise.all([first, second, operator, other].map((subscription) => subscription!.close()));
      await Promise.all([listeners.settled(tenant.tenantId, 0), listeners.settled(otherTenant.tenantId, 0)]);
    } finally {
      await Promise.all(clients.map((client) => client.dispose()));
    }
  });

  test('the same operation with other variables is another group, filtered by its own arguments', async ({ tenant }) => {
    const clients = [wsClient(app.port, tenant.token), wsClient(app.port, tenant.token)];
    try {
      const listening = nextListener(app, 'deviceChanged', tenant.tenantId, 2);
      const ofA = subscribe<{ deviceChanged: { deviceId: string } }>(clients[0]!, WATCH, { deviceId: 'a' });
      const ofB = subscribe<{ deviceChanged: { deviceId: string } }>(clients[1]!, WATCH, { deviceId: 'b' });
      await listening;
      await listeners.settled(tenant.tenantId, 2);
      await register(tenant.token, 'a');
      await register(tenant.token, 'b');
      expect((await ofB.next()).deviceChanged.deviceId).toBe('b');
      expect((await ofA.next()).deviceChanged.deviceId).toBe('a');
      await Promise.all([ofA.close(), ofB.close()]);
    } finally {
      await Promise.all(clients.map((client) => client.dispose()));
    }
  });

  test("one subscriber's unsubscribe leaves the others of its group subscribed", async ({ tenant }) => {
    const clients = [wsClient(app.port, tenant.token), wsClient(app.port, tenant.token)];
    try {
      const listening = nextListener(app, 'deviceChanged', tenant.tenantId, 2);
      const [leaving, staying] = clients.map((client) => subscribe<{ deviceChanged: { deviceId: string } }>(client, WATCH));
      await listening;
      await listeners.settled(tenant.tenantId, 1);
      await register(tenant.token, 'before');
      expect((await leaving!.next()).deviceChanged.deviceId).toBe('before');
      await leaving!.close();
      await register(tenant.token, 'after');
      expect((await staying!.next()).deviceChanged.deviceId).toBe('before');
      expect((await staying!.next()).deviceChanged.deviceId).toBe('after');
      // The group still listens for the one left, and stops with it.
      await listeners.settled(tenant.tenantId, 1);
      await staying!.close();
      await listeners.settled(tenant.tenantId, 0);
    } finally {
      await Promise.all(clients.map((client) => client.dispose()));
    }
  });

  test("a dead socket leaves its group; the group's last dead socket ends it, and a new subscriber starts afresh", async ({ tenant }) => {
    const query = 'subscription { deviceChanged { deviceId } }';
    const listening = nextListener(app, 'deviceChanged', tenant.tenantId, 2);
    const [dying, surviving] = [await rawSubscriber(tenant.token, query), await rawSubscriber(tenant.token, query)];
    await listening;
    await listeners.settled(tenant.tenantId, 1);
    await dying.cut();
    await register(tenant.token, 'one');
    expect((await surviving.next()).deviceChanged.deviceId).toBe('one');
    await surviving.cut();
    // No member left: the group stopped listening and is gone.
    await listeners.settled(tenant.tenantId, 0);

    const relistening = nextListener(app, 'deviceChanged', tenant.tenantId);
    const fresh = await rawSubscriber(tenant.token, query);
    await relistening;
    await register(tenant.token, 'two');
    expect((await fresh.next()).deviceChanged.deviceId).toBe('two');
    await fresh.cut();
    await listeners.settled(tenant.tenantId, 0);
  });
});
