/**
 * `pulse/{tenant}/{device}/telemetry`: samples from a device. The bridge hands a batch of
 * consecutive telemetry messages to `handleMany`, which stores them set-based (see ingest.ts).
 */
import { defineInboundTopic } from '../../mqtt/ingest.js';
import { ingestTelemetry } from './ingest.js';
import { telemetryPayloadSchema } from './payloads.js';

export const telemetryTopic = defineInboundTopic({
  kind: 'telemetry',
  topic: 'telemetry',
  payload: telemetryPayloadSchema,
  description: 'Samples: `{ ts?, metrics: { name: number | boolean | string } }` or a batch `[{ ts, metrics }]`; stored once, latest values and alert rules updated',
  async handle(session, message, services) {
    const [outcome] = await ingestTelemetry(session, services, [message]);
    return outcome!;
  },
  handleMany: (session, messages, services) => ingestTelemetry(session, services, messages),
});
