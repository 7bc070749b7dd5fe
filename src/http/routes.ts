import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Metrics } from './metrics.js';

export interface HealthProbes {
  /** Resolves when the database answers. */
  database(): Promise<void>;
  /** True while the MQTT connection is up. */
  broker(): boolean;
}

/**
 * `/health` says the process serves requests (liveness); `/ready` says its dependencies answer,
 * so a load balancer stops routing to an instance that lost its database or broker.
 */
export async function handleOperationalRoute(
  req: IncomingMessage,
  res: ServerResponse,
  probes: HealthProbes,
  metrics: Metrics,
): Promise<boolean> {
  const path = (req.url ?? '/').split('?')[0];
  if (req.method !== 'GET' && req.method !== 'HEAD') return false;
  if (path === '/health') {
    sendJson(res, 200, { status: 'ok' });
    return true;
  }
  if (path === '/ready') {
    const database = await probes.database().then(
      () => 'ok',
      () => 'unreachable',
    );
    const broker = probes.broker() ? 'ok' : 'unreachable';
    const ready = database === 'ok' && broker === 'ok';
    sendJson(res, ready ? 200 : 503, { status: ready ? 'ready' : 'not ready', database, broker });
    return true;
  }
  if (path === '/metrics') {
    res.writeHead(200, { 'content-type': metrics.registry.contentType });
    res.end(await metrics.registry.metrics());
    return true;
  }
  return false;
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}
