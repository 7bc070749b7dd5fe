import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { MqttClient } from 'mqtt';
import { createTokenVerifier } from './auth/jwt.js';
import type { Config } from './config.js';
import type { Database } from './db/database.js';
import { createSessionRunner, type SessionRunner } from './db/tenant-session.js';
import { createEventBus, type EventBus } from './events/pubsub.js';
import { createReactionDispatcher, type ReactionDispatcher } from './events/reactions.js';
import { costRefusal } from './graphql/limits.js';
import { attachGraphQLWebSocket } from './graphql/ws.js';
import { createPulseYoga, operationLimits, type PulseYoga } from './graphql/yoga.js';
import { createMetrics, type Metrics } from './http/metrics.js';
import { createFleetPage } from './http/fleet-page.js';
import { createGraphiQLPage } from './http/graphiql.js';
import { handleOperationalRoute } from './http/routes.js';
import { withTimeout } from './kernel/timeouts.js';
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

/** How long a stop waits for in-flight work (requests, device batches, workers) before cutting it. */
const DRAIN_TIMEOUT_MS = 10_000;
/** Each step after the deadline still gets this long, so what is left closes cleanly when it can. */
const STEP_FLOOR_MS = 500;

/** Wires the GraphQL server, WebSocket subscriptions and the MQTT connection on one HTTP server. */
export function buildApp(deps: AppDeps): PulseApp {
  const { config, logger, database } = deps;
  const modules = composeModules(pulseModules);
  const metrics = createMetrics(modules.modules);
  const events = createEventBus(config.redisUrl);
  // The dispatcher reads its context (runner, services) lazily: the runner itself needs the dispatcher.
  const reactions: ReactionDispatcher = createReactionDispatcher(
    modules.modules.flatMap((module) => module.reactions ?? []),
    () => reactionContext,
  );
  const runner = createSessionRunner(database, events, logger, (name, payload) => reactions.dispatch(name, payload));
  let mqttClient: MqttClient | undefined;
  let bridge: Bridge | undefined;
  let workers: WorkerHandle | undefined;
  const messenger = mqttMessenger(() => mqttClient);
  const services: AppServices = { config, messenger, metrics, deviceSessions: deps.deviceSessions ?? { disconnect: () => {} } };
  const reactionContext = { runner, services, logger };
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
  const fleetPage = createFleetPage({ token: deps.graphiqlToken });
  const server = createServer((req, res) => {
    if (graphiql.serve(req, res) || fleetPage.serve(req, res)) return;
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
  const { maxCost } = operationLimits(config);
  const ws = attachGraphQLWebSocket(server, yoga, verifier, metrics, {
    maxPayloadBytes: config.graphql.maxRequestBytes,
    checkOperation: (args) => costRefusal(args.schema, args.document, args.operationName, args.variableValues, maxCost),
    logger,
  });
  // Every socket, upgraded (WebSocket) ones included, so a stop past its deadline can cut them all.
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  let stopping: Promise<void> | undefined;

  /**
   * Stops taking work, lets what is in flight finish until the drain deadline, then closes what
   * is left; every step is bounded, so a stop always ends. Device batches that did not commit in
   * time are never acknowledged: the broker redelivers them to the next start.
   */
  async function drainAndClose(): Promise<void> {
    const deadline = Date.now() + DRAIN_TIMEOUT_MS;
    const step = async (what: string, work: Promise<unknown>): Promise<boolean> => {
      try {
        await withTimeout(work, Math.max(STEP_FLOOR_MS, deadline - Date.now()), what);
        return true;
      } catch (error) {
        logger.warn({ err: error, step: what }, 'stop: step did not finish in time; closing what is left');
        return false;
      }
    };
    const httpClosed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    await step('WebSocket close', ws.close());
    // No more device messages are taken; the batches in flight commit (and are acknowledged) or not.
    const bridgeStopped = step('MQTT ingest drain', bridge?.stop() ?? Promise.resolve());
    if (!(await step('HTTP drain', httpClosed))) {
      server.closeAllConnections();
      for (const socket of sockets) socket.destroy();
    }
    await bridgeStopped;
    await step('workers', workers?.stop() ?? Promise.resolve());
    await step('event reactions', reactions.idle());
    if (mqttClient) await closeMqtt(mqttClient, step);
    await step('event bus close', events.close());
  }

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
    stop() {
      stopping ??= drainAndClose();
      return stopping;
    },
  };
}

/**
 * Ends the service connection: waits (within the step's bound) for the broker to acknowledge what
 * was published, then disconnects; if publishes are still unacknowledged, or the clean disconnect
 * does not finish, the connection is cut (mqtt.js would otherwise wait for them forever).
 */
async function closeMqtt(client: MqttClient, step: (what: string, work: Promise<unknown>) => Promise<boolean>): Promise<void> {
  const unacknowledged = () => Object.keys(client.outgoing).length > 0;
  if (unacknowledged()) await step('MQTT publishes in flight', new Promise<void>((resolve) => client.once('outgoingEmpty', () => resolve())));
  if (unacknowledged() || !(await step('MQTT disconnect', client.endAsync(false)))) {
    // A forced end after a graceful one that hung: mqtt.js ignores a second end(), so cut the stream.
    if (client.disconnecting) client.stream?.destroy();
    else await step('MQTT close', client.endAsync(true));
  }
}
