// PostGraphile 5 declares Node >= 22 and calls Promise.withResolvers (Node 22+) on every request.
// Loaded with `node --import ./bench/peer/polyfill.mjs` so the peer runs on the project's Node 20.
if (typeof Promise.withResolvers !== 'function') {
  Object.defineProperty(Promise, 'withResolvers', {
    configurable: true,
    writable: true,
    value: function withResolvers() {
      let resolve;
      let reject;
      const promise = new this((res, rej) => {
        resolve = res;
        reject = rej;
      });
      return { promise, resolve, reject };
    },
  });
}
