import type { Prisma } from '../generated/prisma/client.js';
import type { EventBus } from '../events/pubsub.js';
import type { PulseEventName, PulseEvents } from '../events/events.js';
import type { Logger } from '../logger.js';
import type { TenantScope } from '../kernel/scope.js';
import type { Database } from './database.js';
import { scopeQuery } from './scope-sql.js';

export type { Role, TenantScope } from '../kernel/scope.js';

export type Tx = Prisma.TransactionClient;

/**
 * One tenant transaction: every query of a GraphQL operation or an MQTT batch runs on `db`.
 * Events queued with `publish` are delivered only after the transaction commits.
 */
export interface TenantSession {
  readonly db: Tx;
  readonly scope: TenantScope;
  publish<K extends PulseEventName>(name: K, payload: PulseEvents[K]): void;
  /**
   * Runs `task` once the transaction has committed (never after a rollback), after its events.
   * The runner awaits tasks in order before returning and logs a failure instead of throwing: the
   * work is committed, so a side effect outside the database (an MQTT publish) must not undo it.
   */
  afterCommit(task: () => Promise<void>): void;
  /**
   * Runs `work` in a savepoint. If it throws, its statements are rolled back to the savepoint and
   * the events and after-commit tasks it queued are dropped; the transaction stays usable (a
   * failed statement no longer aborts it), so the rest of the operation still runs and commits.
   */
  savepoint<T>(work: () => Promise<T>): Promise<T>;
  /**
   * Runs raw SQL on this transaction, like `db.$queryRaw`, but on PostgreSQL straight on the
   * transaction's connection (in order with Prisma's statements; no Prisma client work: a hot path
   * saves about a tenth of a millisecond of CPU per statement). Rows come as `pg` decodes them,
   * which matches Prisma's `$queryRaw` only for int4, float8, text, boolean, json(b) and
   * timestamptz columns: cast anything else (bigint, numeric) in the statement.
   */
  query<Row>(sql: Prisma.Sql): Promise<Row[]>;
}

export interface SessionRunner {
  run<T>(scope: TenantScope, work: (session: TenantSession) => Promise<T>): Promise<T>;
}

/** A savepoint's work failed after its statements were rolled back; carries the original error. */
class SavepointRollback {
  constructor(readonly error: unknown) {}
}

const TRANSACTION_OPTIONS = { maxWait: 10_000, timeout: 30_000 } as const;

/** Sees each event right after its transaction committed, in this process only (event reactions). */
export type CommittedEventListener = <K extends PulseEventName>(name: K, payload: PulseEvents[K]) => void;

/** Builds the runner that opens tenant transactions; the only way application code reaches the database. */
export function createSessionRunner(database: Database, events: EventBus, logger: Logger, onCommitted?: CommittedEventListener): SessionRunner {
  let transactions = 0;
  return {
    async run(scope, work) {
      const queued: Array<() => void> = [];
      const afterCommitTasks: Array<() => Promise<void>> = [];
      let savepoints = 0;
      const name = String((transactions = (transactions + 1) % Number.MAX_SAFE_INTEGER));
      const result = await database.prisma.$transaction(async (db) => {
        // On PostgreSQL the pool holds this back and sends it with the first statement (scoped-pool.ts).
        await scopeStatement(db, scope, database.assumeRole, name);
        const statement = database.transactionStatement?.(name);
        return work({
          db,
          scope,
          query: statement ? <Row>(sql: Prisma.Sql) => statement<Row>(sql.text, sql.values) : <Row>(sql: Prisma.Sql) => db.$queryRaw<Row[]>(sql),
          publish(name, payload) {
            queued.push(() => {
              events.publish(name, payload);
              onCommitted?.(name, payload);
            });
          },
          afterCommit(task) {
            afterCommitTasks.push(task);
          },
          async savepoint(inner) {
            // Names are unique per transaction, so nested savepoints unwind independently.
            const name = `pulse_sp_${(savepoints += 1)}`;
            const marks = { events: queued.length, tasks: afterCommitTasks.length };
            await db.$executeRawUnsafe(`SAVEPOINT ${name}`);
            let outcome: { value: Awaited<ReturnType<typeof inner>> } | SavepointRollback;
            try {
              outcome = { value: await inner() };
            } catch (error) {
              outcome = new SavepointRollback(error);
            }
            if (outcome instanceof SavepointRollback) {
              await db.$executeRawUnsafe(`ROLLBACK TO SAVEPOINT ${name}`);
              queued.length = marks.events;
              afterCommitTasks.length = marks.tasks;
              throw outcome.error;
            }
            await db.$executeRawUnsafe(`RELEASE SAVEPOINT ${name}`);
            return outcome.value;
          },
        });
      }, TRANSACTION_OPTIONS);
      for (const deliver of queued) {
        try {
          deliver();
        } catch (error) {
          logger.error({ err: error }, 'event delivery failed after commit');
        }
      }
      for (const task of afterCommitTasks) {
        try {
          await task();
        } catch (error) {
          logger.error({ err: error }, 'after-commit task failed');
        }
      }
      return result;
    },
  };
}

/**
 * A session for work that must not hold a transaction open (resolving subscription events):
 * each query runs in its own short transaction that carries the same tenant scope, so RLS still
 * applies to every statement. Publishing from here is a programming error.
 */
export function perQuerySession(database: Database, scope: TenantScope): TenantSession {
  const base = database.prisma;
  let client: Tx | undefined;
  const scoped = () =>
    (client ??= base.$extends({
      query: {
        $allModels: {
          async $allOperations({ args, query }) {
            const [, result] = await base.$transaction([scopeStatement(base, scope, database.assumeRole), query(args)]);
            return result;
          },
        },
        // Raw SQL is no model operation: scoped the same way, or RLS would silently show it nothing.
        async $queryRaw({ args, query }) {
          const [, result] = await base.$transaction([scopeStatement(base, scope, database.assumeRole), query(args)]);
          return result;
        },
      },
    }) as unknown as Tx);
  return {
    get db() {
      return scoped();
    },
    scope,
    publish() {
      throw new Error('perQuerySession is read-only: open a transaction with SessionRunner.run to write');
    },
    afterCommit() {
      throw new Error('perQuerySession has no transaction to commit: open one with SessionRunner.run');
    },
    // Each query is its own transaction already: there is nothing to roll back to.
    savepoint: (work) => work(),
    query: <Row>(sql: Prisma.Sql) => scoped().$queryRaw<Row[]>(sql),
  };
}

/**
 * Sets tenant, role and actor transaction-locally (`is_local = true`), so nothing leaks to the
 * next user of the pooled connection (scope-sql.ts). On PostgreSQL the pool sends it together
 * with the transaction's next statement.
 */
function scopeStatement(db: Tx | Database['prisma'], scope: TenantScope, assumeRole: string | null, transaction = '') {
  const { text, values } = scopeQuery(scope, assumeRole, transaction);
  return db.$queryRawUnsafe(text, ...values);
}
