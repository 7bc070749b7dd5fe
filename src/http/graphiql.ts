import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { sendCompressed } from './compressed.js';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { GRAPHIQL_FETCHER_SCRIPT } from './graphiql-fetcher.js';

export interface GraphiQLPageOptions {
  endpoint: string;
  /** Prefilled in the Headers panel (the development token of the embedded default). */
  token?: string;
}

interface RenderedPage {
  gzipped: Buffer;
  etag: string;
}

/**
 * Renders the page in a child process that writes the gzipped bytes to its stdout. The
 * renderer's module is a 9 MB script of inlined assets: loaded in the server's own process it
 * kept about 100 MB resident for the life of the process and stalled start-up for seconds (a
 * worker thread still left some 30 MB behind). CommonJS because it is evaluated as a script; its
 * input arrives as JSON on stdin.
 */
const RENDER_SCRIPT = `
const { gzipSync } = require('node:zlib');
let input = '';
process.stdin.setEncoding('utf8').on('data', (chunk) => (input += chunk)).on('end', () => {
  const { renderer, options, fetcherScript } = JSON.parse(input);
  let html = require(renderer).renderGraphiQL(options);
  // Render through Pulse's fetcher (graphiql-fetcher.ts): the stock one cannot authenticate subscriptions.
  const call = 'YogaGraphiQL.renderYogaGraphiQL(';
  const at = html.lastIndexOf(call);
  const head = html.indexOf('</head>');
  if (at < 0 || head < 0) {
    process.stderr.write('the GraphiQL page has no ' + (at < 0 ? call : '</head>') + ': @graphql-yoga/render-graphiql changed its layout');
    process.exit(1);
  }
  html = html.slice(0, head) + '<script>' + fetcherScript + '</script>' + html.slice(head, at) + 'PulseGraphiQL.render(' + html.slice(at + call.length);
  process.stdout.write(gzipSync(Buffer.from(html)));
});
`;

const DEFAULT_QUERY = `# Welcome to Pulse. The Headers panel (below) carries your token; mint others with
#   npm run token -- --tenant <id> --role customer
# Press ▶ to list the devices of your tenant. The "Live" tab streams presence changes.
# Example operations: examples/*.graphql in the repository (the README walks through them).

query Devices {
  devices(first: 20) {
    totalCount
    edges { node { deviceId name status lastSeenAt site { name } tags { key value } } }
  }
  fleetSummary(groupBy: [STATUS]) { total buckets { values { value } count } }
}
`;

const LIVE_QUERY = `# Runs until you stop it: every presence change in your tenant, as it commits.
# With the demo fleet a sensor drops off and comes back every half minute.
subscription Live {
  deviceConnectivityChanged { deviceId previousStatus status reason occurredAt }
}
`;

function render(options: GraphiQLPageOptions): Promise<RenderedPage> {
  const headers = options.token ? JSON.stringify({ Authorization: `Bearer ${options.token}` }, null, 2) : undefined;
  const graphiqlOptions = {
    title: 'Pulse',
    endpoint: options.endpoint,
    subscriptionsProtocol: 'WS',
    ...(headers && { headers }),
    defaultTabs: [{ query: DEFAULT_QUERY, headers }, { query: LIVE_QUERY, headers }],
  };
  return new Promise<RenderedPage>((resolve, reject) => {
    // A plain Node process: the TypeScript loader the server may run under is not needed there.
    const child = spawn(process.execPath, ['-e', RENDER_SCRIPT], { stdio: ['pipe', 'pipe', 'pipe'], env: {} });
    const output: Buffer[] = [];
    let problem = '';
    child.stdout.on('data', (chunk: Buffer) => output.push(chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (problem += chunk));
    child.once('error', reject);
    child.once('close', (code) => {
      if (code !== 0) return reject(new Error(`the GraphiQL renderer exited with code ${code}: ${problem.trim().slice(0, 500)}`));
      const gzipped = Buffer.concat(output);
      resolve({ gzipped, etag: `"graphiql-${createHash('sha1').update(gzipped).digest('base64url').slice(0, 20)}"` });
    });
    child.stdin.end(JSON.stringify({ renderer: createRequire(import.meta.url).resolve('@graphql-yoga/render-graphiql'), options: graphiqlOptions, fetcherScript: GRAPHIQL_FETCHER_SCRIPT }));
  });
}

/**
 * GraphiQL with every asset inlined (no CDN: the page must work offline), served gzipped with a
 * validator. With a token (the embedded default's development token, for a newcomer who opens it
 * next) it is rendered ahead in the background; otherwise on the first request.
 */
export function createGraphiQLPage(options: GraphiQLPageOptions) {
  let page: Promise<RenderedPage> | undefined;
  const rendered = () => (page ??= render(options));
  if (options.token) rendered().catch(() => undefined);

  return {
    /**
     * True when it answers: a browser navigating to the GraphQL endpoint. A `?query=` in the URL
     * is GraphiQL's own (it keeps the editor's text there), so a reload shows GraphiQL again.
     */
    serve(req: IncomingMessage, res: ServerResponse): boolean {
      const path = (req.url ?? '/').split('?')[0];
      const wantsHtml = (req.headers.accept ?? '').includes('text/html');
      if (req.method !== 'GET' || path !== options.endpoint || !wantsHtml) return false;
      rendered().then(
        (result) => sendCompressed(req, res, { contentType: 'text/html; charset=utf-8', ...result }),
        (error: unknown) => {
          page = undefined;
          res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
          res.end(`GraphiQL could not be rendered: ${error instanceof Error ? error.message : String(error)}\n`);
        },
      );
      return true;
    },
  };
}
