/**
 * From decoded telemetry messages to sample rows, and the sanity window on their timestamps.
 * Pure: the handler and the tests share it.
 */
import type { DeviceKey } from '../../kernel/device-key.js';
import type { MetricValue, TelemetryPayload } from './payloads.js';

/** One stored sample. */
export interface Sample {
  tenantId: string;
  deviceId: string;
  metric: string;
  time: Date;
  value: MetricValue;
}

/** How far a sample's time may be from the time the server received it. */
export interface SampleWindow {
  maxAgeSeconds: number;
  maxFutureSeconds: number;
}

export type TimestampRejection = 'TIMESTAMP_TOO_OLD' | 'TIMESTAMP_IN_FUTURE';

/**
 * Why a message's timestamps are not acceptable, or null. A device clock that was never set
 * (1970) or runs far ahead would put samples outside every partition and every chart; the whole
 * message is refused, so the device's error is visible instead of half its batch vanishing.
 */
export function timestampRejection(payload: TelemetryPayload, receivedAt: Date, window: SampleWindow): TimestampRejection | null {
  const earliest = receivedAt.getTime() - window.maxAgeSeconds * 1000;
  const latest = receivedAt.getTime() + window.maxFutureSeconds * 1000;
  for (const entry of payload) {
    if (!entry.ts) continue;
    const at = entry.ts.getTime();
    if (at < earliest) return 'TIMESTAMP_TOO_OLD';
    if (at > latest) return 'TIMESTAMP_IN_FUTURE';
  }
  return null;
}

/** The samples of one message; an entry without `ts` is stamped with the receive time. */
export function samplesOf(key: DeviceKey, payload: TelemetryPayload, receivedAt: Date): Sample[] {
  return payload.flatMap((entry) =>
    Object.entries(entry.metrics).map(([metric, value]) => ({ ...key, metric, time: entry.ts ?? receivedAt, value })),
  );
}

/** The value in the column that stores its type (`telemetry.value_num | value_bool | value_text`). */
export function valueColumns(value: MetricValue): { num: number | null; bool: boolean | null; text: string | null } {
  if (typeof value === 'number') return { num: value, bool: null, text: null };
  if (typeof value === 'boolean') return { num: null, bool: value, text: null };
  return { num: null, bool: null, text: value };
}

/** A stored value back from its columns. */
export function valueOf(row: { valueNum: number | null; valueBool: boolean | null; valueText: string | null }): MetricValue {
  if (row.valueNum !== null) return row.valueNum;
  if (row.valueBool !== null) return row.valueBool;
  return row.valueText ?? '';
}

/**
 * The number alert rules and aggregates see: numbers as they are, booleans as 1 and 0 (the mean
 * of a door contact is the share of time it was open); text has none.
 */
export function numericValue(value: MetricValue): number | null {
  if (typeof value === 'number') return value;
  if (typeof value === 'boolean') return value ? 1 : 0;
  return null;
}

/** `tenant/device/metric/epoch-ms`: identifies a stored sample (its primary key). */
export function sampleKey(sample: { tenantId: string; deviceId: string; metric: string; time: Date }): string {
  return `${sample.tenantId}/${sample.deviceId}/${sample.metric}/${sample.time.getTime()}`;
}
