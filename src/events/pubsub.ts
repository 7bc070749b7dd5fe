import { setMaxListeners } from 'node:events';
import { createRequire } from 'node:module';
import { createPubSub } from 'graphql-yoga';
import type * as RedisEventTarget from '@graphql-yoga/redis-event-target';
import type * as IORedis from 'ioredis';
import type { PulseEventName, PulseEvents } from './events.js';

// Loaded only when REDIS_URL is set: ioredis and its dependencies hold ~10 MB of a process that
// never talks to Redis (most single-instance deployments, the embedded default).
const require = createRequire(import.meta.url);

type ChannelMap = { [K in PulseEventName]: [tenantId: string, payload: PulseEvents[K]] };

/** Tenant-keyed pub/sub over the typed event map; in-process, or Redis when several instances run. */
export interface EventBus {
  publish<K extends PulseEventName>(name: K, payload: PulseEvents[K]): void;
  subscribe<K extends PulseEventName>(name: K, tenantId: string): AsyncIterable<PulseEvents[K]>;
  close(): Promise<void>;
}

/** Creates the event bus; with a Redis URL, events fan out to every instance subscribed to Redis. */
export function createEventBus(redisUrl?: string): EventBus {
  let redisClients: IORedis.Redis[] = [];
  let pubsub;
  if (redisUrl) {
    const { Redis } = require('ioredis') as typeof IORedis;
    const { createRedisEventTarget } = require('@graphql-yoga/redis-event-target') as typeof RedisEventTarget;
    const publishClient = new Redis(redisUrl, { lazyConnect: false, maxRetriesPerRequest: 2 });
    const subscribeClient = new Redis(redisUrl, { lazyConnect: false, maxRetriesPerRequest: 2 });
    redisClients = [publishClient, subscribeClient];
    pubsub = createPubSub<ChannelMap>({ eventTarget: createRedisEventTarget({ publishClient, subscribeClient }) });
  } else {
    // Every open subscription is a listener on one channel; Node warns past 10 unless told otherwise.
    const eventTarget = new EventTarget();
    setMaxListeners(0, eventTarget);
    pubsub = createPubSub<ChannelMap>({ eventTarget });
  }
  const bus = pubsub;
  return {
    publish(name, payload) {
      // The yoga pubsub's generic overloads don't narrow through a mapped key; the map above is the contract.
      (bus.publish as (topic: string, id: string, payload: unknown) => void)(name, payload.tenantId, payload);
    },
    subscribe(name, tenantId) {
      return (bus.subscribe as (topic: string, id: string) => AsyncIterable<never>)(name, tenantId);
    },
    async close() {
      await Promise.all(redisClients.map((client) => client.quit().catch(() => undefined)));
    },
  };
}
