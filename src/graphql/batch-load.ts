/**
 * Per-operation batching for computed fields that cannot join into the page's statement (uptime,
 * convergence): every resolver of the same field with the same arguments in one operation waits a
 * turn of the event loop, then one statement loads them all. A page of N devices costs one
 * statement per such field, not N.
 */
type Loader = { keys: Set<string>; result: Promise<Map<string, unknown>> };

const loaders = new WeakMap<object, Map<string, Loader>>();

/**
 * Resolves `key`'s value from a batch named `batch` (the field and its arguments) of `context`
 * (the GraphQL context: batches never cross operations, so never tenants). `loadAll` receives
 * every key requested in the batch and returns their values; a key it omits resolves `undefined`.
 */
export function batchLoad<V>(context: object, batch: string, key: string, loadAll: (keys: string[]) => Promise<Map<string, V>>): Promise<V | undefined> {
  let byBatch = loaders.get(context);
  if (!byBatch) loaders.set(context, (byBatch = new Map()));
  let loader = byBatch.get(batch);
  if (!loader) {
    const keys = new Set<string>();
    const current: Loader = {
      keys,
      // setImmediate, not a microtask: sibling resolvers of a list are reached across several microtask turns.
      result: new Promise<void>((resolve) => setImmediate(resolve)).then(() => {
        byBatch.delete(batch);
        return loadAll([...keys]) as Promise<Map<string, unknown>>;
      }),
    };
    byBatch.set(batch, current);
    loader = current;
  }
  loader.keys.add(key);
  return loader.result.then((values) => values.get(key) as V | undefined);
}
