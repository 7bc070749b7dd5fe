/** How far a subscription's consumer may fall behind its events before the subscription fails. */
export const MAX_EVENTS_BEHIND = 1_024;

type Waiter<T> = { resolve: (result: IteratorResult<T>) => void; reject: (error: unknown) => void };

const DONE: IteratorReturnResult<undefined> = { done: true, value: undefined };

/**
 * A subscription's event stream filtered as events arrive, not as the consumer asks for them:
 * `source` is read as fast as it yields, each event kept or dropped by `keep` (in order: an async
 * `keep` is awaited before the next event is looked at), and `onKept` sees every kept event at
 * once — so work for it can start (a re-read, see devices/device-event.ts) while the consumer is
 * still busy with earlier events. The consumer gets the kept events in order; one that falls
 * {@link MAX_EVENTS_BEHIND} events behind gets an error instead of unbounded memory.
 *
 * Nothing is read before the consumer's first `next()` (a subscription that is never pulled
 * never listens); `return()` stops reading and drops what was kept.
 */
export function keepArriving<T>(
  source: AsyncIterable<T>,
  keep: (event: T) => boolean | Promise<boolean>,
  onKept: (event: T) => void = () => undefined,
): AsyncIterableIterator<T> {
  let iterator: AsyncIterator<T> | undefined;
  const kept: T[] = [];
  const waiters: Array<Waiter<T>> = [];
  let ended: { failed: false } | { failed: true; error: unknown } | null = null;
  let closed = false;

  async function read(from: AsyncIterator<T>): Promise<void> {
    try {
      for (;;) {
        const step = await from.next();
        if (step.done || closed) break;
        if (!(await keep(step.value)) || closed) continue;
        onKept(step.value);
        const waiter = waiters.shift();
        if (waiter) waiter.resolve({ value: step.value, done: false });
        else if (kept.length >= MAX_EVENTS_BEHIND) throw new Error(`Subscription fell more than ${MAX_EVENTS_BEHIND} events behind`);
        else kept.push(step.value);
      }
      ended = { failed: false };
    } catch (error) {
      ended = { failed: true, error };
      void Promise.resolve(from.return?.()).catch(() => undefined);
    }
    const outcome = ended;
    for (const waiter of waiters.splice(0)) {
      if (outcome.failed) waiter.reject(outcome.error);
      else waiter.resolve(DONE);
    }
  }

  return {
    next() {
      if (!iterator) void read((iterator = source[Symbol.asyncIterator]()));
      if (kept.length > 0) return Promise.resolve({ value: kept.shift() as T, done: false });
      if (closed) return Promise.resolve(DONE);
      if (ended) return ended.failed ? Promise.reject(ended.error) : Promise.resolve(DONE);
      return new Promise<IteratorResult<T>>((resolve, reject) => waiters.push({ resolve, reject }));
    },
    return() {
      if (!closed) {
        closed = true;
        kept.length = 0;
        for (const waiter of waiters.splice(0)) waiter.resolve(DONE);
        void Promise.resolve(iterator?.return?.()).catch(() => undefined);
      }
      return Promise.resolve(DONE);
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}
