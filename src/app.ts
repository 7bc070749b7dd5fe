import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { MqttClient } from 'mqtt';
import { createTokenVerifier } from './auth/jwt.js';
import type { Config } from './config.js';
import type { Database } from './db/database.js';
import { createSessionRunner, type SessionRunner } from './db/tenant-session.js';
import { createEventBus, type EventBus } from './events/pubsub.js';
import { createReactionDispatcher, type ReactionDispatcher } from './events/reactions.js';
import { attachGraphQLWebSocket } from './graphql/ws.js';
import { createPulseYoga, type PulseYoga } from './graphql/yoga.js';
import { createMetrics, type Metrics } from './http/metrics.js';
import { createGraphiQLPage } from './http/graphiql.js';
import { handleOperationalRoute } from './http/routes.js';
import type { Logger } from './logger.js';
import { startBridge, type Bridge } from './mqtt/bridge.js';
import { connectServiceClient, mqttMessenger, type ServiceClientOptions } from './mqtt/service-client.js';
import { pulseModules } from './modules/index.js';
import { composeModules, type ComposedModules } from './platform/compose.js';
import type { AppServices, DeviceSessions } from './services.js';
import { startWorkers, type WorkerHandle } from './workers.js';

export interface AppDeps {
  config: Config;
  logger: Logger;
  database: Database;
  mqtt: ServiceClientOptions;
  /** Prefilled in GraphiQL (embedded default only). */
  graphiqlToken?: string;
  /** The embedded broker's session control; absent with an external broker. */
  deviceSessions?: DeviceSessions;
  /** Run periodic workers on their timers (default). Tests turn it off and call `workers.runAllOnce()`. */
  autoStartWorkers?: boolean;
}

export interface PulseApp {
  readonly server: Server;
  /** The modules' schema, topics and workers, as wired. */
  readonly modules: ComposedModules;
  readonly yoga: PulseYoga;
  readonly runner: SessionRunner;
  readonly events: EventBus;
  readonly metrics: Metrics;
  readonly services: AppServices;
  /** Available after start(). */
  readonly bridge: Bridge;
  readonly workers: WorkerHandle;
  /** Event reactions in flight; `idle()` resolves when they have finished. */
  readonly reactions: ReactionDispatcher;
  /** Connects to the broker, then listens; resolves with the bound address. */
  start(): Promise<{ port: number; url: string }>;
  /** Stops accepting work, drains in-flight requests, closes subscriptions, MQTT and the event bus. */
  stop(): Promise<void>;
}

const DRAIN_TIMEOUT_MS = 10_000;

/** Wires the GraphQL server, WebSocket subscriptions and the MQTT connection on one HTTP server. */
export function buildApp(deps: AppDeps): PulseApp {
  const { config, logger, database } = deps;
  const modules = composeModules(pulseModules);
  const metrics = createMetrics(modules.modules);
  const events = createEventBus(config.redisUrl);
  let reactions: ReactionDispatcher | undefined;
  const runner = createSessionRunner(database, events, logger, (name, payload) => reactions?.dispatch(name, payload));
  let mqttClient: MqttClient | undefined;
  let bridge: Bridge | undefined;
  let workers: WorkerHandle | undefined;
  const messenger = mqttMessenger(() => mqttClient);
  const services: AppServices = { config, messenger, metrics, deviceSessions: deps.deviceSessions ?? { disconnect: () => {} } };
  const reactionContext = { runner, services, logger };
  reactions = createReactionDispatcher(
    modules.modules.flatMap((module) => module.reactions ?? []),
    () => reactionContext,
  );
  const verifier = createTokenVerifier(config);
  const yoga = createPulseYoga({
    schema: modules.schema,
    config,
    database,
    runner,
    events,
    verifier,
    services,
    metrics,
    logger,
  });
  const graphiql = createGraphiQLPage({ endpoint: yoga.graphqlEndpoint, token: deps.graphiqlToken });
  const server = createServer((req, res) => {
    if (graphiql.serve(req, res)) return;
    const declaredLength = Number(req.headers['content-length'] ?? 0);
    if (declaredLength > config.graphql.maxRequestBytes) {
      res.writeHead(413, { 'content-type': 'application/json', connection: 'close' });
      res.end(JSON.stringify({ errors: [{ message: 'Request body too large', extensions: { code: 'PAYLOAD_TOO_LARGE' } }] }));
      return;
    }
    const probes = { database: () => database.ping(), broker: () => mqttClient?.connected ?? false };
    handleOperationalRoute(req, res, probes, metrics)
      .then((handled) => (handled ? undefined : yoga.handle(req, res)))
      .catch((error: unknown) => {
        logger.error({ err: error }, 'unhandled HTTP error');
        if (!res.headersSent) res.writeHead(500);
        res.end();
      });
  });
  const ws = attachGraphQLWebSocket(server, yoga, verifier, metrics);

  return {
    server,
    modules,
    yoga,
    runner,
    events,
    metrics,
    services,
    get bridge() {
      if (!bridge) throw new Error('app not started');
      return bridge;
    },
    reactions,
    get workers() {
      if (!workers) throw new Error('app not started');
      return workers;
    },
    async start() {
      mqttClient = await connectServiceClient(deps.mqtt, logger);
      bridge = await startBridge({
        client: mqttClient,
        runner,
        services,
        topics: modules.topics,
        metrics,
        logger,
        sharedGroup: config.mqtt.kind === 'external' ? config.mqtt.sharedGroup : undefined,
      });
      for (const module of modules.modules) await module.onStart?.(reactionContext);
      workers = startWorkers(modules.workers, { runner, services, logger }, { autoStart: deps.autoStartWorkers ?? true });
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(config.http.port, config.http.host, () => resolve());
      });
      const { port } = server.address() as AddressInfo;
      const url = `http://${config.http.host === '0.0.0.0' ? 'localhost' : config.http.host}:${port}/graphql`;
      logger.info({ url }, 'Pulse is serving GraphQL');
      return { port, url };
    },
    async stop() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      await ws.close();
      const timer = setTimeout(() => server.closeAllConnections(), DRAIN_TIMEOUT_MS);
      await closed;
      clearTimeout(timer);
      await workers?.stop();
      await reactions.idle();
      await bridge?.stop();
      await mqttClient?.endAsync().catch((error: unknown) => logger.warn({ err: error }, 'MQTT close failed'));
      await events.close();
    },
  };
}
