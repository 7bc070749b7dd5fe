/**
 * Pulse under test, in its own process: `startPulse` with the configuration the parent passes in
 * the environment (LOG_LEVEL=silent, periodic workers off). Besides HTTP/WebSocket on its port it
 * answers a few IPC requests: publish events on its in-process bus (fan-out), read its MQTT
 * counters and wait for the bridge to go idle (ingest).
 */
import { loadPulseConfig } from '../src/server.js';
import type { PulseEventName, PulseEvents } from '../src/events/events.js';
import { createLogger } from '../src/logger.js';
import { startPulse } from '../src/server.js';
import { serveIpc } from './lib/child.js';

export interface PublishRequest {
  event: PulseEventName;
  /** Payloads are cycled through until `count` have been published. */
  payloads: Array<PulseEvents[PulseEventName]>;
  count: number;
  /** Events published per macrotask; the rest wait for the next one, as separate writes would. */
  burst: number;
}

export interface MqttCounters {
  /** `pulse_mqtt_messages_total` by `kind/outcome`. */
  messages: Record<string, number>;
  /** `pulse_mqtt_rejected_total` by `kind/reason`. */
  rejected: Record<string, number>;
}

const config = loadPulseConfig(process.env);
const pulse = await startPulse(config, createLogger(config.logLevel), { autoStartWorkers: false });
const { app } = pulse;

const yieldToLoop = () => new Promise((resolve) => setImmediate(resolve));

async function counters(): Promise<MqttCounters> {
  const [messages, rejected] = await Promise.all([app.metrics.mqttMessages.get(), app.metrics.mqttRejected.get()]);
  const byLabels = (values: Array<{ labels: Partial<Record<string, string | number>>; value: number }>, second: 'outcome' | 'reason') =>
    Object.fromEntries(values.map((v) => [`${String(v.labels['kind'])}/${String(v.labels[second])}`, v.value]));
  return { messages: byLabels(messages.values, 'outcome'), rejected: byLabels(rejected.values, 'reason') };
}

serveIpc(
  {
    async publish(payload) {
      const request = payload as PublishRequest;
      for (let i = 0; i < request.count; i++) {
        // A fresh object each time, as every real publish is: reads shared by the subscribers of
        // one event are keyed by the event object, and must not carry over to the next event.
        const event = { ...request.payloads[i % request.payloads.length]! };
        app.events.publish(request.event, event as never);
        if ((i + 1) % request.burst === 0) await yieldToLoop();
      }
      return request.count;
    },
    activeSubscriptions: async () => (await app.metrics.subscriptions.get()).values[0]?.value ?? 0,
    mqttCounters: counters,
    bridgeIdle: () => app.bridge.idle(),
  },
  () => pulse.stop(),
  pulse.port,
);
