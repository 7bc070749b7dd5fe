import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { gzipSync } from 'node:zlib';
import { sendCompressed, type CompressedBody } from './compressed.js';
import { FLEET_PAGE_SCRIPT } from './fleet-page-script.js';

export interface FleetPageOptions {
  /** The embedded default's development token: the page uses it unless the visitor pasted another. */
  token?: string;
  /** Where the Markdown documents linked from the page live (the repository's `docs/`). */
  docsDir?: URL;
}


/** Both `src/http/` (tsx) and `dist/http/` (compiled) sit two levels below the repository root. */
const DEFAULT_DOCS_DIR = new URL('../../docs/', import.meta.url);

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);

function asset(contentType: string, body: string): CompressedBody {
  const gzipped = gzipSync(body);
  return { contentType, gzipped, etag: `"${createHash('sha1').update(gzipped).digest('base64url').slice(0, 20)}"` };
}

function pageHtml(token: string | undefined, docs: string[]): string {
  const docLinks = docs.map((name) => `<a href="/docs/${name}">${escapeHtml(name.replace(/\.md$/, ''))}</a>`).join(' · ');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Pulse — fleet</title>
${token ? `<meta name="pulse-development-token" content="${escapeHtml(token)}">` : ''}
<style>
  :root { color-scheme: light dark; --muted: #777; --line: #8884; --online: #1a7f37; --stale: #b58100; --offline: #b42318; }
  body { font: 15px/1.45 system-ui, sans-serif; margin: 0 auto; max-width: 72rem; padding: 1rem 1.5rem 3rem; }
  header { display: flex; flex-wrap: wrap; align-items: baseline; justify-content: space-between; gap: .5rem 2rem; }
  h1 { font-size: 1.4rem; margin: .5rem 0; }
  nav a { margin-left: 1rem; }
  form { display: flex; gap: .5rem; margin: .75rem 0; }
  #token { flex: 1; font: 13px ui-monospace, monospace; padding: .35rem .5rem; }
  #connection-state { color: var(--muted); margin: 0 0 1rem; }
  #connection-state[data-state="live"] { color: var(--online); }
  #connection-state[data-state="refused"], #connection-state[data-state="error"] { color: var(--offline); }
  .counts { display: grid; grid-template-columns: repeat(4, minmax(8rem, 1fr)); gap: .75rem; margin-bottom: 1.5rem; }
  .count { border: 1px solid var(--line); border-radius: .5rem; padding: .6rem .9rem; }
  .count output { display: block; font-size: 2rem; font-weight: 600; font-variant-numeric: tabular-nums; }
  .count.online output { color: var(--online); } .count.stale output { color: var(--stale); } .count.offline output { color: var(--offline); }
  h2 { font-size: 1.05rem; margin: 0 0 .5rem; }
  #feed { list-style: none; margin: 0; padding: 0; font-variant-numeric: tabular-nums; }
  .event { display: grid; grid-template-columns: 6.5rem 6rem 14rem 1fr; gap: .75rem; padding: .3rem 0; border-top: 1px solid var(--line); }
  .event .time, .event .kind { color: var(--muted); }
  .event .device { font-family: ui-monospace, monospace; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
  .event[data-tone="ONLINE"] .text, .event[data-tone="UP"] .text, .event[data-tone="DELIVERED"] .text, .event[data-tone="CLEARED"] .text { color: var(--online); }
  .event[data-tone="OFFLINE"] .text, .event[data-tone="DOWN"] .text, .event[data-tone="FAILED"] .text, .event[data-tone="CRITICAL"] .text, .event[data-tone="error"] .text { color: var(--offline); }
  .event[data-tone="STALE"] .text, .event[data-tone="DEGRADED"] .text, .event[data-tone="WARNING"] .text { color: var(--stale); }
  footer { margin-top: 2rem; color: var(--muted); }
</style>
</head>
<body>
<header>
  <h1>Pulse — fleet</h1>
  <nav><a href="/graphql">GraphiQL</a><a href="/metrics">Metrics</a><a href="/ready">Readiness</a><a href="/docs/">Docs</a></nav>
</header>
<form id="token-form" autocomplete="off">
  <input id="token" name="token" type="password" placeholder="Token (npm run token prints one)" aria-label="Token">
  <button type="submit">Connect</button>
</form>
<p id="connection-state" data-state="idle" role="status">Starting…</p>
<section class="counts" aria-label="Devices by status">
  <div class="count"><span>Devices</span><output id="count-total">–</output></div>
  <div class="count online"><span>Online</span><output id="count-online">–</output></div>
  <div class="count stale"><span>Stale</span><output id="count-stale">–</output></div>
  <div class="count offline"><span>Offline</span><output id="count-offline">–</output></div>
</section>
<section aria-label="Live events">
  <h2>Latest events</h2>
  <p id="feed-empty">Nothing yet: events appear here as they commit.</p>
  <ol id="feed"></ol>
</section>
<footer>Docs: ${docLinks || 'none found'}</footer>
<script src="/fleet.js"></script>
</body>
</html>
`;
}

/** The Markdown files under `docsDir` (none when it is missing: the page still works). */
function listDocs(docsDir: URL): string[] {
  try {
    return readdirSync(docsDir)
      .filter((name) => /^[a-z0-9][a-z0-9-]*\.md$/.test(name))
      .sort();
  } catch {
    return [];
  }
}

/**
 * The live fleet page at `/` (HTML and its script, built and compressed once), and the docs it
 * links to at `/docs/` (served as Markdown text, read from disk per request: they are small and a
 * running server should show the current files).
 */
export function createFleetPage(options: FleetPageOptions) {
  const docsDir = options.docsDir ?? DEFAULT_DOCS_DIR;
  const docs = listDocs(docsDir);
  const assets = new Map<string, CompressedBody>([
    ['/', asset('text/html; charset=utf-8', pageHtml(options.token, docs))],
    ['/fleet.js', asset('text/javascript; charset=utf-8', FLEET_PAGE_SCRIPT)],
    ['/docs/', asset('text/plain; charset=utf-8', `Pulse documentation\n\n${docs.map((name) => `/docs/${name}`).join('\n')}\n`)],
  ]);

  return {
    /** True when it answered the request. */
    serve(req: IncomingMessage, res: ServerResponse): boolean {
      if (req.method !== 'GET' && req.method !== 'HEAD') return false;
      const path = (req.url ?? '/').split('?')[0] ?? '/';
      const fixed = assets.get(path);
      if (fixed) {
        sendCompressed(req, res, fixed);
        return true;
      }
      const doc = /^\/docs\/([a-z0-9][a-z0-9-]*\.md)$/.exec(path)?.[1];
      // Only names from the listing: a path never reaches the file system from the URL.
      if (!doc || !docs.includes(doc)) return false;
      let text: string;
      try {
        text = readFileSync(new URL(doc, docsDir), 'utf8');
      } catch {
        return false;
      }
      res.writeHead(200, { 'content-type': 'text/markdown; charset=utf-8', 'cache-control': 'no-cache', 'x-content-type-options': 'nosniff' });
      res.end(req.method === 'HEAD' ? undefined : text);
      return true;
    },
  };
}
