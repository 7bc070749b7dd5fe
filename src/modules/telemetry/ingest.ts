/**
 * Applying telemetry messages: one bridge batch is one presence touch, one statement storing the
 * samples (multi-row INSERT) and moving the latest values, and one threshold evaluation, all in
 * the batch's transaction.
 * Idempotent: a redelivered message inserts nothing and so evaluates nothing.
 */
import type { TenantSession } from '../../db/tenant-session.js';
import { applied, duplicate, rejected, type InboundMessage, type IngestOutcome } from '../../mqtt/ingest.js';
import type { AppServices } from '../../services.js';
import { evaluateThresholdRules, type MetricSample } from '../alerts/evaluate.js';
import { touchDevices } from '../connectivity/touch.js';
import { numericValue, sampleKey, samplesOf, timestampRejection, type Sample } from './samples.js';
import { storeSamples } from './store.js';

/** Applies telemetry messages in order; one outcome per message. */
export async function ingestTelemetry(session: TenantSession, services: AppServices, messages: readonly InboundMessage<'telemetry'>[]): Promise<IngestOutcome[]> {
  const window = { maxAgeSeconds: services.config.telemetry.maxSampleAgeSeconds, maxFutureSeconds: services.config.telemetry.maxFutureSeconds };
  const outcomes: Array<IngestOutcome | null> = messages.map((message) => {
    const problem = timestampRejection(message.payload, message.receivedAt, window);
    return problem ? rejected(problem) : null;
  });
  const accepted = messages.flatMap((message, index) => (outcomes[index] === null ? [index] : []));
  // Any message from a device is a sign of life; the touch also tells which devices exist.
  const presence = await touchDevices(
    session,
    accepted.map((index) => ({ key: { tenantId: messages[index]!.tenantId, deviceId: messages[index]!.deviceId }, at: messages[index]!.receivedAt })),
    'DEVICE_MESSAGE',
  );
  const samplesByMessage = new Map<number, Sample[]>();
  accepted.forEach((index, position) => {
    const message = messages[index]!;
    if (!presence[position]!.found) outcomes[index] = rejected('UNKNOWN_DEVICE');
    else samplesByMessage.set(index, samplesOf({ tenantId: message.tenantId, deviceId: message.deviceId }, message.payload, message.receivedAt));
  });

  const inserted = await storeSamples(session, [...samplesByMessage.values()].flat());
  await evaluateThresholdRules(session, services, inserted.flatMap(toMetricSample));
  services.metrics.telemetry.samples.inc(inserted.length);

  // A message is applied if it stored anything; a sample repeated within the batch counts for
  // the first message that carried it (the order the messages would have applied in one by one).
  const stored = new Set(inserted.map(sampleKey));
  return messages.map((_, index) => {
    const outcome = outcomes[index];
    if (outcome) return outcome;
    let storedAny = false;
    for (const sample of samplesByMessage.get(index)!) if (stored.delete(sampleKey(sample))) storedAny = true;
    return storedAny ? applied : duplicate;
  });
}

function toMetricSample(sample: Sample): MetricSample[] {
  const value = numericValue(sample.value);
  return value === null ? [] : [{ tenantId: sample.tenantId, deviceId: sample.deviceId, metric: sample.metric, value, time: sample.time }];
}
