/**
 * Twin rules: versioned desired writes with conflict detection and automatic merging, reported
 * updates from devices, history, events and the desired channel to the device. Every function
 * runs in the tenant transaction it is given; the SQL lives in store.ts.
 */
import { NotFoundError, ValidationError } from '../../kernel/errors.js';
import { parseInput } from '../../kernel/validation.js';
import type { TenantScope, TenantSession } from '../../db/tenant-session.js';
import type { IngestOutcome } from '../../mqtt/ingest.js';
import type { AppServices } from '../../services.js';
import { requireWriter } from '../tenants/service.js';
import { changedPaths, pathsWrittenSince } from './conflicts.js';
import { publishDesiredState } from './desired-channel.js';
import { TwinDocumentTooLargeError, TwinVersionConflictError } from './errors.js';
import { updateDesiredInputSchema, type UpdateDesiredInput } from './inputs.js';
import { cloneJson, jsonEqual, type JsonObject, type JsonValue } from './json.js';
import { checkTwinDocument } from './limits.js';
import { applyMergePatch, diffToMergePatch, mergePatchPaths } from './merge-patch.js';
import { updateMetadata } from './metadata.js';
import { conflictingPaths, ROOT_PATH } from './paths.js';
import {
  advanceReportedSeq,
  desiredHistoryBetween,
  readTwin,
  writeTwinIfVersion,
  type DeviceKey,
  type TwinActor,
  type TwinRow,
  type TwinWrite,
  type TwinWriteMode,
} from './store.js';
import { viewTwin } from './view.js';

type TwinLimitsConfig = AppServices['config']['twin'];

/**
 * A stale write further behind than this is not merged automatically: examining its history
 * would cost a read of every version since, so it gets a conflict listing every path it touches.
 */
export const MAX_AUTO_MERGE_DISTANCE = 100;

export type DesiredWriteResult = {
  key: DeviceKey;
  /** The desired version this write created. */
  version: number;
  /** The version the write was applied on: `expectedVersion` unless `autoMerged`. */
  basedOnVersion: number;
  /** The expected version was stale, and the write touched nothing changed since: merged onto the current one. */
  autoMerged: boolean;
};

type DesiredPlan = { document: JsonObject; metadata: JsonObject; patch: JsonValue; autoMerged: boolean };

function writerOf(scope: TenantScope): TwinActor {
  return { type: scope.role === 'iot_service' ? 'service' : 'user', id: scope.actorId };
}

/** Shape problems are ValidationErrors; size, depth and path length are TwinDocumentTooLarge. */
function assertWithinLimits(document: unknown, limits: TwinLimitsConfig): void {
  const issues = checkTwinDocument(document, limits, 'desired');
  if (issues.length === 0) return;
  const shape = issues.filter((issue) => issue.code === 'NOT_AN_OBJECT' || issue.code === 'NOT_JSON');
  if (shape.length > 0) {
    throw new ValidationError(shape.map((issue) => ({ path: ['input', ...issue.path], message: issue.message, code: 'INVALID_TYPE' })));
  }
  throw new TwinDocumentTooLargeError(issues, limits.maxDocumentBytes, limits.maxDepth);
}

/**
 * Writes desired state (RFC 7396 MERGE, or REPLACE), optionally conditional on
 * `expectedVersion` / `ifMatch`. The write itself is one conditional UPDATE on the version read.
 *
 * Unconditional writes lock the state row first (`SELECT … FOR UPDATE`): an RFC 7396 merge is
 * recursive, which SQL's `jsonb ||` cannot express without a custom function (a migration), and
 * the lock lasts only until this operation's transaction commits, serialising writers of one
 * device and nothing else. Conditional writes start without a lock (readers never wait on them);
 * if a concurrent writer commits between the read and the UPDATE, the UPDATE matches no row and
 * the write is re-planned once under the lock, so it cannot lose twice and nobody livelocks.
 *
 * @throws TwinVersionConflictError, TwinDocumentTooLargeError, ValidationError, NotFoundError
 */
export async function updateDesiredTwin(session: TenantSession, services: AppServices, rawInput: unknown): Promise<DesiredWriteResult> {
  const input = parseInput(updateDesiredInputSchema, rawInput);
  const key = { tenantId: requireWriter(session.scope), deviceId: input.deviceId };
  const limits = services.config.twin;
  // The patch first, before any merging: its own limits bound the work, and errors name the input.
  assertWithinLimits(input.desired, limits);
  for (let locked = input.expectedVersion === null; ; locked = true) {
    const row = await readTwin(session, key, { lock: locked });
    if (!row || row.decommissioned) throw new NotFoundError('Device', key.deviceId);
    const plan = await planDesiredWrite(session, key, row, input, limits);
    const history = { patch: plan.patch, mode: input.mode === 'MERGE' ? 'merge' : 'replace', actor: writerOf(session.scope) } as const;
    const write = await writeTwinIfVersion(session, 'desired', key, row.desiredVersion, plan.document, plan.metadata, history);
    if (write) return announceDesiredWrite(session, services, key, { row, plan, write });
    if (locked) throw new Error(`desired version of ${key.deviceId} moved under a row lock`);
  }
}

/** The document, metadata and history patch of a write on top of `row`, or a conflict. */
async function planDesiredWrite(
  session: TenantSession,
  key: DeviceKey,
  row: TwinRow,
  input: UpdateDesiredInput,
  limits: TwinLimitsConfig,
): Promise<DesiredPlan> {
  const expected = input.expectedVersion;
  let autoMerged = false;
  if (expected !== null && expected !== row.desiredVersion) {
    // A version from the future has no history to compare with: a plain conflict.
    const conflicts = expected < row.desiredVersion ? await conflictsSince(session, key, expected, row.desiredVersion, input) : [];
    if (expected > row.desiredVersion || input.mode === 'REPLACE' || conflicts.length > 0) {
      throw new TwinVersionConflictError(expected, row.desiredVersion, row.desired, conflicts);
    }
    autoMerged = true;
  }
  const merge = input.mode === 'MERGE';
  const document = merge ? (applyMergePatch(row.desired, input.desired) as JsonObject) : cloneJson(input.desired);
  assertWithinLimits(document, limits);
  const metadata = updateMetadata(row.desiredMetadata, row.desired, document, row.now, merge ? mergePatchPaths(input.desired, row.desired) : []);
  // History records REPLACE as the merge patch it amounts to, so conflict detection reads one form.
  const patch = merge ? input.desired : (diffToMergePatch(row.desired, document) ?? document);
  return { document, metadata, patch, autoMerged };
}

/** Paths this write touches that desired writes after `expected` (up to `current`) also wrote. */
async function conflictsSince(
  session: TenantSession,
  key: DeviceKey,
  expected: number,
  current: number,
  input: UpdateDesiredInput,
): Promise<string[]> {
  const everything = input.mode === 'MERGE' ? mergePatchPaths(input.desired) : [ROOT_PATH];
  if (current - expected > MAX_AUTO_MERGE_DISTANCE) return everything;
  const history = await desiredHistoryBetween(session, key, expected, current);
  const base = expected === 0 ? {} : history.find((entry) => entry.version === expected)?.document;
  if (base === undefined) return everything;
  const written = pathsWrittenSince(base, expected, history.filter((entry) => entry.version > expected));
  // What the writer meant to change, relative to the document it saw.
  const touched = input.mode === 'MERGE' ? mergePatchPaths(input.desired, base) : changedPaths(base, input.desired);
  return conflictingPaths(written, touched);
}

/** After a stored desired write: its event, and the retained document for the device after commit. */
function announceDesiredWrite(
  session: TenantSession,
  services: AppServices,
  key: DeviceKey,
  { row, plan, write }: { row: TwinRow; plan: DesiredPlan; write: TwinWrite },
): DesiredWriteResult {
  publishTwinChanged(session, key, 'DESIRED', write);
  const message = { version: write.version, state: plan.document, ts: write.updatedAt.toISOString() };
  session.afterCommit(() => publishDesiredState(services.messenger, key, message));
  return { key, version: write.version, basedOnVersion: row.desiredVersion, autoMerged: plan.autoMerged };
}

function publishTwinChanged(session: TenantSession, key: DeviceKey, direction: 'DESIRED' | 'REPORTED', write: TwinWrite): void {
  const { sync } = viewTwin({ desiredState: write.desired, reportedState: write.reported, desiredVersion: write.desiredVersion, status: write.status });
  session.publish('deviceTwinChanged', {
    ...key,
    direction,
    desiredVersion: write.desiredVersion,
    reportedVersion: write.reportedVersion,
    occurredAt: write.updatedAt.toISOString(),
    syncStatus: sync.status,
  });
}

/**
 * A device's report: a merge patch onto its reported document, or a whole replacement, and the
 * device's sequence number for it (`seq`, increasing per device) when it sends one.
 */
export type ReportedState = { state: JsonObject; mode: TwinWriteMode; seq?: number };

/**
 * Applies a device's reported state, once and in order. The row is locked first (reports of one
 * device from several ingest instances apply one after the other). A report with a `seq` not above
 * the highest applied (`reported_seq`) is a `duplicate`: a QoS 1 redelivery (after a broker
 * restart, the broker may replay reports applied long ago) or a report overtaken by a newer one;
 * it writes nothing and keeps `reportedVersion`. A report that leaves the document unchanged is a
 * `duplicate` too (its seq still advances). An unknown or decommissioned device, or a document
 * over a limit, is `rejected` with the reason and nothing stored changes.
 */
export async function recordReportedTwin(
  session: TenantSession,
  services: Pick<AppServices, 'config'>,
  key: DeviceKey,
  report: ReportedState,
): Promise<IngestOutcome> {
  const row = await readTwin(session, key, { lock: true });
  if (!row || row.decommissioned) return { status: 'rejected', reason: 'UNKNOWN_DEVICE' };
  if (report.seq !== undefined && row.reportedSeq !== null && report.seq <= row.reportedSeq) return { status: 'duplicate' };
  const merge = report.mode === 'merge';
  const document = merge ? (applyMergePatch(row.reported, report.state) as JsonObject) : cloneJson(report.state);
  const issues = checkTwinDocument(document, services.config.twin, 'reported');
  if (issues.length > 0) return { status: 'rejected', reason: issues[0]!.code };
  if (jsonEqual(document, row.reported)) {
    if (report.seq !== undefined) await advanceReportedSeq(session, key, report.seq);
    return { status: 'duplicate' };
  }
  const metadata = updateMetadata(row.reportedMetadata, row.reported, document, row.now, merge ? mergePatchPaths(report.state, row.reported) : []);
  const patch = merge ? report.state : (diffToMergePatch(row.reported, document) ?? document);
  const history = { patch, mode: report.mode, actor: { type: 'device', id: key.deviceId } } as const;
  const write = await writeTwinIfVersion(session, 'reported', key, row.reportedVersion, document, metadata, history, report.seq);
  if (!write) throw new Error(`reported version of ${key.deviceId} moved under a row lock`);
  publishTwinChanged(session, key, 'REPORTED', write);
  return { status: 'applied' };
}
