/**
 * Issue 14, class 9: a stop always finishes. Twenty times, a busy server is stopped: a device
 * streams twin reports (QoS 1), another device with a will drops its connection mid-stop, a
 * graphql-ws subscriber is cut mid-stop, mutations are in flight over HTTP. Each stop must end
 * within the drain bound; and across all the restarts (one Mosquitto, one persistent server
 * session) every report the broker acknowledged to the device ends up committed. The reports carry
 * no `seq`: Mosquitto may redeliver a stopped session's in-flight messages after newer ones (it
 * guarantees order only with max_inflight_messages 1), and a report with a seq older than one
 * applied is dropped by design (report-order.test.ts); without one, every report applies.
 */
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, test } from '../harness/fixtures.js';
import { startTestApp, type TestApp } from '../harness/app.js';
import { uniqueName } from '../harness/postgres.js';
import { buildTopic } from '../harness/topics.js';
import { wsClient } from '../harness/ws.js';
import { keepPresence, registerDevice, startMosquitto, status, type OwnMosquitto } from '../connectivity/support.js';

const ROUNDS = 20;
/** The drain bound of app.stop (10 s) plus its closing steps. */
const STOP_BOUND_MS = 12_000;

let mosquitto: OwnMosquitto;
beforeAll(async () => {
  // Unbounded session queues: Mosquitto's default (1,000 messages) silently drops reports sent
  // while a slow restart (a loaded CI machine) keeps the server away, which is the broker's
  // policy, not something a stop of Pulse can lose.
  mosquitto = await startMosquitto({ extraConfig: ['max_queued_messages 0'] });
});
afterAll(() => mosquitto.dispose());

describe('a stop always finishes', () => {
  test(`${ROUNDS} stops of a busy server, each in time, every acknowledged report committed`, { timeout: 120_000 }, async ({ tenant }) => {
    const env = { MQTT_URL: mosquitto.url, MQTT_CLIENT_ID: uniqueName('pulse-stop') };
    let app: TestApp = await startTestApp(env);
    await keepPresence(app, tenant.token);
    await registerDevice(app, tenant.token, 'streamer');
    await registerDevice(app, tenant.token, 'dropper');
    const topic = buildTopic.twinReported(tenant.tenantId, 'streamer');

    // The device keeps publishing through every restart; the broker acknowledges each report.
    const device = await mqtt.connectAsync(mosquitto.url, { clientId: uniqueName('streamer'), protocolVersion: 5, reconnectPeriod: 0 });
    let seq = 0;
    let streaming = true;
    const acknowledged: number[] = [];
    const stream = (async () => {
      while (streaming) {
        const next = (seq += 1);
        await device.publishAsync(topic, JSON.stringify({ state: { reading: next } }), { qos: 1 });
        acknowledged.push(next);
        // About 200 reports a second: busy; the broker queues them for the session while the server restarts.
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    })();

    const durations: number[] = [];
    try {
      for (let round = 0; round < ROUNDS; round += 1) {
        const current = app;
        // A subscriber, a device with a will, and mutations in flight when the stop begins.
        const subscriber = wsClient(current.port, tenant.token);
        subscriber.subscribe({ query: 'subscription { deviceTwinChanged { deviceId } }' }, { next: () => undefined, error: () => undefined, complete: () => undefined });
        const dropper = await mqtt.connectAsync(mosquitto.url, {
          clientId: uniqueName('dropper'),
          protocolVersion: 5,
          reconnectPeriod: 0,
          will: { topic: buildTopic.status(tenant.tenantId, 'dropper'), payload: Buffer.from(status('offline')), qos: 1, retain: false },
        });
        await dropper.publishAsync(buildTopic.status(tenant.tenantId, 'dropper'), status('online'), { qos: 1 });
        const mutations = Array.from({ length: 5 }, (_, index) =>
          fetch(`http://127.0.0.1:${current.port}/graphql`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', authorization: `Bearer ${tenant.token}` },
            body: JSON.stringify({
              query: 'mutation($input: UpdateDeviceTwinDesiredInput!) { updateDeviceTwinDesired(input: $input) { __typename } }',
              variables: { input: { deviceId: 'streamer', desired: { round, index } } },
            }),
            signal: AbortSignal.timeout(STOP_BOUND_MS),
          }).catch(() => undefined),
        );

        const started = Date.now();
        const stopped = current.stop();
        // Clients vanish while the server stops: no clean disconnect, no close handshake.
        dropper.stream.destroy();
        void Promise.resolve(subscriber.dispose()).catch(() => undefined);
        await stopped;
        durations.push(Date.now() - started);
        await Promise.all(mutations);
        app = await startTestApp(env);
      }

      // Stop the device, then wait on the last report it sent: the broker delivers the session's
      // queue in order, so once it has settled everything before it has been handled too.
      streaming = false;
      await stream;
      const last = seq;
      const settled = new Promise<void>((resolve) => app.pulse.app.bridge.onSettled((message) => message.topic === topic && resolve()));
      await device.publishAsync(topic, JSON.stringify({ seq: last + 1, state: { done: true } }), { qos: 1 });
      await settled;
      await app.pulse.app.bridge.idle();

      const reported = await app.gql<{ device: { twin: { reported: Record<string, unknown> } } }>(tenant.token, '{ device(deviceId: "streamer") { twin { reported } } }');
      expect(reported.data?.device.twin.reported).toEqual({ reading: last, done: true });
      const committed = new Set<unknown>();
      for (let after: string | null = null; ; ) {
        type Page = { twinHistory: { edges: Array<{ cursor: string; node: { document: { reading?: unknown } } }> } };
        const page: { data?: Page } = await app.gql<Page>(
          tenant.token,
          'query($after: String) { twinHistory(deviceId: "streamer", direction: REPORTED, first: 500, after: $after) { edges { cursor node { document } } } }',
          { after },
        );
        const edges = page.data!.twinHistory.edges;
        if (edges.length === 0) break;
        for (const edge of edges) committed.add(edge.node.document.reading);
        after = edges.at(-1)!.cursor;
      }
      const missing = acknowledged.filter((n) => !committed.has(n));
      expect(missing, `reports acknowledged by the broker but never committed (of ${acknowledged.length})`).toEqual([]);
      expect(durations.every((ms) => ms < STOP_BOUND_MS), `stop durations: ${durations.join(', ')} ms`).toBe(true);
    } finally {
      streaming = false;
      await stream.catch(() => undefined);
      await device.endAsync(true);
      await app.stop();
    }
  });
});
