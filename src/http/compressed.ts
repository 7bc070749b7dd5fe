import type { IncomingMessage, ServerResponse } from 'node:http';
import { gunzipSync } from 'node:zlib';

/** A response body compressed once, when it is built, and served to every request as is. */
export interface CompressedBody {
  contentType: string;
  gzipped: Buffer;
  etag: string;
}

/** 304 for a matching `if-none-match`; else the gzipped bytes, inflated for a client without gzip. */
export function sendCompressed(req: IncomingMessage, res: ServerResponse, { contentType, gzipped, etag }: CompressedBody): void {
  if (req.headers['if-none-match'] === etag) {
    res.writeHead(304, { etag });
    res.end();
    return;
  }
  const gzip = /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
  res.writeHead(200, {
    'content-type': contentType,
    'cache-control': 'no-cache',
    etag,
    vary: 'accept-encoding',
    'x-content-type-options': 'nosniff',
    ...(gzip && { 'content-encoding': 'gzip' }),
  });
  res.end(req.method === 'HEAD' ? undefined : gzip ? gzipped : gunzipSync(gzipped));
}
