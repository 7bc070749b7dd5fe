import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { jsonTextDepthExceeds } from '../kernel/json.js';

/**
 * Nesting allowed in a request's JSON text (HTTP body or WebSocket message): the platform's JSON
 * bound for one value (kernel/json.ts, 32) with room for the request, variables and input objects
 * around it. Deeper text is refused before `JSON.parse`, whose cost grows with it.
 */
export const MAX_REQUEST_JSON_DEPTH = 64;

function payloadTooLarge(maxBytes: number): GraphQLError {
  return new GraphQLError(`Request body too large: the limit is ${maxBytes} bytes`, {
    extensions: { code: 'PAYLOAD_TOO_LARGE', http: { status: 413, headers: { connection: 'close' } } },
  });
}

/** The body, read as it arrives and abandoned as soon as it passes `maxBytes`, declared length or not. */
async function readBounded(request: Request, maxBytes: number): Promise<Uint8Array> {
  const reader = request.body?.getReader();
  if (!reader) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw payloadTooLarge(maxBytes);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}

/**
 * Bounds every request body before yoga's own parser sees it: at most `maxBytes`
 * (`GRAPHQL_MAX_REQUEST_BYTES`) however it is framed (a chunked body declares no length: the
 * HTTP server's Content-Length check cannot see it), and JSON nested at most
 * {@link MAX_REQUEST_JSON_DEPTH} levels. Then yoga's parser for the content type runs on the bytes.
 */
export function useRequestBounds(maxBytes: number): Plugin {
  return {
    onRequestParse({ request, requestParser, setRequestParser, fetchAPI }) {
      if (!requestParser || request.method !== 'POST') return;
      const parse = requestParser;
      setRequestParser(async (original) => {
        const body = await readBounded(original, maxBytes);
        if ((original.headers.get('content-type') ?? '').includes('json') && jsonTextDepthExceeds(new TextDecoder().decode(body), MAX_REQUEST_JSON_DEPTH)) {
          throw new GraphQLError(`The request nests JSON deeper than ${MAX_REQUEST_JSON_DEPTH} levels`, {
            extensions: { code: 'BAD_USER_INPUT', issues: [{ path: [], message: `nested deeper than ${MAX_REQUEST_JSON_DEPTH} levels`, code: 'TOO_DEEP' }], http: { status: 400 } },
          });
        }
        const headers = new fetchAPI.Headers(original.headers);
        headers.delete('content-length');
        headers.delete('transfer-encoding');
        return parse(new fetchAPI.Request(original.url, { method: original.method, headers, body: Uint8Array.from(body) }));
      });
    },
  };
}
