import { gzipSync } from 'node:zlib';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { renderGraphiQL } from '@graphql-yoga/render-graphiql';

/**
 * GraphiQL with every asset inlined (no CDN: the page must work offline). The page is about
 * 9 MB, so it is rendered once, gzipped once, and served with a validator for caching.
 */
export function createGraphiQLPage(options: { endpoint: string; token?: string }) {
  const html = renderGraphiQL({
    title: 'Pulse',
    endpoint: options.endpoint,
    subscriptionsProtocol: 'WS',
    ...(options.token && { headers: JSON.stringify({ Authorization: `Bearer ${options.token}` }, null, 2) }),
    defaultQuery: DEFAULT_QUERY,
  });
  const raw = Buffer.from(html);
  const gzipped = gzipSync(raw);
  const etag = `"graphiql-${raw.length.toString(36)}-${gzipped.length.toString(36)}"`;
  return {
    /** True when it answered: a browser GET of the GraphQL endpoint. */
    serve(req: IncomingMessage, res: ServerResponse): boolean {
      const path = (req.url ?? '/').split('?')[0];
      const wantsHtml = (req.headers.accept ?? '').includes('text/html');
      if (req.method !== 'GET' || path !== options.endpoint || !wantsHtml || (req.url ?? '').includes('query=')) return false;
      if (req.headers['if-none-match'] === etag) {
        res.writeHead(304, { etag });
        res.end();
        return true;
      }
      const gzip = /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
      res.writeHead(200, {
        'content-type': 'text/html; charset=utf-8',
        'cache-control': 'no-cache',
        etag,
        vary: 'accept-encoding',
        ...(gzip && { 'content-encoding': 'gzip' }),
      });
      res.end(gzip ? gzipped : raw);
      return true;
    },
  };
}

const DEFAULT_QUERY = `# Welcome to Pulse. The Authorization header ("Headers", below) carries your JWT;
# mint one with: npm run token -- --tenant <id> --role customer
#
# Register a device (its MQTT password is shown once):
#   mutation { registerDevice(input: { deviceId: "sensor-1", name: "First sensor" }) {
#     __typename ... on RegisterDevicePayload { device { id } credentials { username password topicPrefix } } } }

query Devices {
  devices(first: 20) {
    totalCount
    edges { node { id deviceId name status lastSeenAt tags { key value } } }
  }
}
`;
