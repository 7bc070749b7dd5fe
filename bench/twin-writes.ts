/**
 * Twin writes: Pulse's `updateDeviceTwinDesired` mutation over HTTP vs the limit, the single
 * conditional UPDATE it boils down to, in a transaction with the same RLS settings, from the same
 * number of workers over the same number of pooled connections. Each worker owns one device and
 * tracks its desired version, so every write carries the right `expectedVersion` and none conflict.
 */
import pg from 'pg';
import type { BenchContext } from './context.js';
import { graphqlClient, namedType, typeLiteral, type Schema } from './lib/graphql.js';
import { closedLoop, type LoopResult } from './lib/workers.js';
import type { Figure, Row } from './report.js';

const MUTATION = 'updateDeviceTwinDesired';

interface MutationPlan {
  document: string;
  input(deviceId: string, patch: Record<string, unknown>, expectedVersion: number): Record<string, unknown>;
  /** Result type names that mean "not applied" (typed errors such as TwinVersionConflict). */
  errorTypes: Set<string>;
  usesExpectedVersion: boolean;
}

/** Builds the mutation from the schema as it is now, or says why it cannot be benchmarked yet. */
export function planMutation(schema: Schema): MutationPlan | { pending: string } {
  const field = schema.mutation ? schema.field(schema.mutation, MUTATION) : undefined;
  if (!field) return { pending: `Mutation.${MUTATION} is not in the schema yet` };
  const inputArg = field.args.find((arg) => arg.name === 'input');
  if (!inputArg) return { pending: `${MUTATION} has no input argument` };
  const inputType = schema.types.get(namedType(inputArg.type));
  const inputFields = inputType?.inputFields ?? [];
  const known = new Set(['deviceId', 'desired', 'expectedVersion', 'mode']);
  const unknownRequired = inputFields.filter((f) => f.type.kind === 'NON_NULL' && !known.has(f.name));
  if (unknownRequired.length) return { pending: `${MUTATION} requires ${unknownRequired.map((f) => f.name).join(', ')}` };
  const has = (name: string) => inputFields.find((f) => f.name === name);
  if (!has('deviceId') || !has('desired')) return { pending: `${MUTATION} input lacks deviceId/desired` };

  let mode: string | undefined;
  const modeField = has('mode');
  if (modeField) {
    const modeType = schema.types.get(namedType(modeField.type));
    mode = modeType?.kind === 'ENUM' ? modeType.enumValues?.find((v) => /merge/i.test(v.name))?.name : 'merge';
  }

  const returnType = schema.types.get(namedType(field.type));
  const errorInterface = schema.types.get('Error');
  const errorTypes = new Set((errorInterface?.possibleTypes ?? []).map((t) => t.name));
  const returnMembers = new Set((returnType?.possibleTypes ?? []).map((t) => t.name));
  const canSpreadError =
    errorInterface?.kind === 'INTERFACE' && (returnType?.name === 'Error' || [...returnMembers].some((name) => errorTypes.has(name)));
  const selection = returnType && returnType.kind !== 'SCALAR' && returnType.kind !== 'ENUM' ? `{ __typename${canSpreadError ? ' ... on Error { message }' : ''} }` : '';
  const document = `mutation BenchTwin($input: ${typeLiteral(inputArg.type)}) { ${MUTATION}(input: $input) ${selection} }`;
  const usesExpectedVersion = Boolean(has('expectedVersion'));
  return {
    document,
    errorTypes,
    usesExpectedVersion,
    input: (deviceId, patch, expectedVersion) => ({
      deviceId,
      desired: patch,
      ...(usesExpectedVersion && { expectedVersion }),
      ...(mode !== undefined && { mode }),
    }),
  };
}

async function desiredVersions(ownerUrl: string, tenantId: string, deviceIds: string[]): Promise<number[]> {
  const client = new pg.Client({ connectionString: ownerUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ device_id: string; desired_version: number }>(
      'SELECT device_id, desired_version FROM device_state WHERE tenant_id = $1 AND device_id = ANY($2)',
      [tenantId, deviceIds],
    );
    const byId = new Map(rows.map((row) => [row.device_id, row.desired_version]));
    return deviceIds.map((id) => byId.get(id) ?? 0);
  } finally {
    await client.end();
  }
}

const patchFor = (worker: number, n: number) => ({ config: { interval: 30 + (n % 60), profile: `w${worker}` } });

function figureOf(result: LoopResult, what: string): Figure {
  return {
    value: result.ok / result.seconds,
    unit: 'writes/s',
    detail: `p50 ${result.p50.toFixed(1)} ms, p99 ${result.p99.toFixed(1)} ms, ${result.ok} ${what} in ${result.seconds.toFixed(1)} s${
      result.failed ? `, ${result.failed} failed (first: ${result.firstError ?? 'not applied'})` : ''
    }`,
  };
}

async function runMutation(ctx: BenchContext, plan: MutationPlan, deviceIds: string[]): Promise<LoopResult> {
  const { writes } = ctx.options;
  const versions = await desiredVersions(ctx.db.ownerUrl, ctx.db.tenantId, deviceIds);
  const client = graphqlClient(ctx.pulse.port, ctx.token, writes.concurrency);
  const counters = deviceIds.map(() => 0);
  interface Payload {
    [MUTATION]: { __typename: string; message?: string } | null;
  }
  const op = async (worker: number) => {
    const deviceId = deviceIds[worker]!;
    const n = counters[worker]!++;
    const response = await client.request<Payload>(plan.document, { input: plan.input(deviceId, patchFor(worker, n), versions[worker]!) });
    const result = response.data?.[MUTATION];
    if (response.errors?.length || !result || plan.errorTypes.has(result.__typename)) {
      // Resynchronise the version after a refused write, then report the failure.
      versions[worker] = (await desiredVersions(ctx.db.ownerUrl, ctx.db.tenantId, [deviceId]))[0]!;
      throw new Error(response.errors?.[0]?.message ?? `${result?.__typename ?? 'null'}${result?.message ? `: ${result.message}` : ''}`);
    }
    versions[worker]!++;
    return true;
  };
  try {
    await closedLoop(writes.concurrency, writes.warmupSeconds, op);
    return await closedLoop(writes.concurrency, writes.seconds, op);
  } finally {
    client.close();
  }
}

/** BEGIN; set_config ×3; UPDATE … WHERE version matches RETURNING; COMMIT — as the RLS-bound app role. */
async function runRawSql(ctx: BenchContext, deviceIds: string[]): Promise<LoopResult> {
  const { writes } = ctx.options;
  const versions = await desiredVersions(ctx.db.ownerUrl, ctx.db.tenantId, deviceIds);
  const pool = new pg.Pool({ connectionString: ctx.db.appUrl, max: ctx.options.poolSize });
  const counters = deviceIds.map(() => 0);
  const op = async (worker: number) => {
    const deviceId = deviceIds[worker]!;
    const n = counters[worker]!++;
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      await client.query(
        `SELECT set_config('app.tenant_id', $1, true), set_config('app.role', 'customer', true), set_config('app.actor', $2, true)`,
        [ctx.db.tenantId, 'bench@raw'],
      );
      const result = await client.query<{ desired_version: number }>(
        `UPDATE device_state
            SET desired_state = desired_state || $3::jsonb, desired_version = desired_version + 1, desired_updated_at = now()
          WHERE tenant_id = $1 AND device_id = $2 AND desired_version = $4
          RETURNING desired_version`,
        [ctx.db.tenantId, deviceId, JSON.stringify(patchFor(worker, n)), versions[worker]],
      );
      await client.query('COMMIT');
      if (result.rowCount !== 1) return false;
      versions[worker] = result.rows[0]!.desired_version;
      return true;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  };
  try {
    await closedLoop(writes.concurrency, writes.warmupSeconds, op);
    return await closedLoop(writes.concurrency, writes.seconds, op);
  } finally {
    await pool.end();
  }
}

export async function runTwinWrites(ctx: BenchContext): Promise<Row[]> {
  const { writes } = ctx.options;
  const deviceIds = ctx.db.deviceIds.slice(0, writes.concurrency);
  const plan = planMutation(ctx.schema);
  const notes = [
    `${writes.concurrency} concurrent writers (one device each, expectedVersion tracked), ${writes.seconds} s each after ${writes.warmupSeconds} s warm-up;` +
      ` ${ctx.options.poolSize} database connections on both sides`,
    'the limit is only the UPDATE (no history row, no event, no MQTT publish, no HTTP/GraphQL)',
  ];
  let pulse: Row['pulse'];
  if ('pending' in plan) {
    pulse = { pending: plan.pending };
  } else {
    if (!plan.usesExpectedVersion) notes.push('the mutation has no expectedVersion: Pulse writes were unconditional');
    ctx.log(`Twin writes: pulse mutation (${writes.warmupSeconds} s warm-up + ${writes.seconds} s)…`);
    pulse = figureOf(await runMutation(ctx, plan, deviceIds), 'mutations');
  }
  ctx.log(`Twin writes: raw SQL (${writes.warmupSeconds} s warm-up + ${writes.seconds} s)…`);
  const raw = await runRawSql(ctx, deviceIds);
  return [{ suite: 'writes', title: 'Twin writes', pulse, referenceName: 'raw SQL UPDATE', reference: figureOf(raw, 'updates'), notes }];
}
