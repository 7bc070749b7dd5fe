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
  /**
   * {@link run} for work that reaches the database only through `session.query` (and publishes,
   * after-commit tasks and savepoints): on PostgreSQL it runs straight on a pooled connection,
   * without Prisma's interactive transaction, and `session.db` throws. Same scope, RLS, rollback
   * and after-commit guarantees. Where there is no such path (PGlite) it is `run` itself.
   */
  runSql<T>(scope: TenantScope, work: (session: TenantSession) => Promise<T>): Promise<T>;
}

/** A savepoint's work failed after its statements were rolled back; carries the original error. */
class SavepointRollback {
  constructor(readonly error: unknown) {}
}

const TRANSACTION_OPTIONS = { maxWait: 10_000, timeout: 30_000 } as const;

/** Sees each event right after its transaction committed, in this process only (event reactions). */
export type CommittedEventListener = <K extends PulseEventName>(name: K, payload: PulseEvents[K]) => void;

/**
 * What a transaction queued for after its commit (events, then tasks), and the savepoints that
 * drop what their failed work queued: the same for Prisma's transactions and raw-SQL ones.
 */
class CommitEffects {
  private readonly queued: Array<() => void> = [];
  private readonly tasks: Array<() => Promise<void>> = [];
  private savepoints = 0;

  constructor(
    private readonly events: EventBus,
    private readonly onCommitted: CommittedEventListener | undefined,
  ) {}

  session(db: Tx, scope: TenantScope, query: TenantSession['query'], execute: (sql: string) => Promise<unknown>): TenantSession {
    return {
      db,
      scope,
      query,
      publish: (name, payload) => {
        this.queued.push(() => {
          this.events.publish(name, payload);
          this.onCommitted?.(name, payload);
        });
      },
      afterCommit: (task) => {
        this.tasks.push(task);
      },
      savepoint: async (inner) => {
        // Names are unique per transaction, so nested savepoints unwind independently.
        const name = `pulse_sp_${(this.savepoints += 1)}`;
        const marks = { events: this.queued.length, tasks: this.tasks.length };
        await execute(`SAVEPOINT ${name}`);
        let outcome: { value: Awaited<ReturnType<typeof inner>> } | SavepointRollback;
        try {
          outcome = { value: await inner() };
        } catch (error) {
          outcome = new SavepointRollback(error);
        }
        if (outcome instanceof SavepointRollback) {
          await execute(`ROLLBACK TO SAVEPOINT ${name}`);
          this.queued.length = marks.events;
          this.tasks.length = marks.tasks;
          throw outcome.error;
        }
        await execute(`RELEASE SAVEPOINT ${name}`);
        return outcome.value;
      },
    };
  }

  /** After the commit: every event, then every task in order; failures are logged, never thrown. */
  async deliver(logger: Logger): Promise<void> {
    for (const deliver of this.queued) {
      try {
        deliver();
      } catch (error) {
        logger.error({ err: error }, 'event delivery failed after commit');
      }
    }
    for (const task of this.tasks) {
      try {
        await task();
      } catch (error) {
        logger.error({ err: error }, 'after-commit task failed');
      }
    }
  }
}

/**
 * A raw-SQL transaction ran past Prisma's transaction timeout. `ETIMEDOUT`: like Prisma's closed
 * transaction (P2028) it counts as transient (prisma-errors.ts), so an ingest batch is retried
 * later instead of being split into messages that would each wait as long again.
 */
class TransactionTimeout extends Error {
  readonly code = 'ETIMEDOUT';
  constructor(ms: number) {
    super(`transaction timed out after ${ms} ms and was rolled back`);
    this.name = 'TransactionTimeout';
  }
}

/** The `db` of a raw-SQL transaction: there is no Prisma transaction to run a model call on. */
const NO_PRISMA = new Proxy({} as Tx, {
  get(_target, property) {
    throw new Error(`session.db.${String(property)} in a raw-SQL transaction (SessionRunner.runSql): use session.query, or run the work with SessionRunner.run`);
  },
});

/** Builds the runner that opens tenant transactions; the only way application code reaches the database. */
export function createSessionRunner(
  database: Database,
  events: EventBus,
  logger: Logger,
  onCommitted?: CommittedEventListener,
  /** How long a transaction may run before it is rolled back (default 30 s, as Prisma's `timeout`). */
  timeoutMs: number = TRANSACTION_OPTIONS.timeout,
): SessionRunner {
  let transactions = 0;
  const run: SessionRunner['run'] = async (scope, work) => {
    const effects = new CommitEffects(events, onCommitted);
    const name = String((transactions = (transactions + 1) % Number.MAX_SAFE_INTEGER));
    const result = await database.prisma.$transaction(async (db) => {
      // On PostgreSQL the pool holds this back and sends it with the first statement (scoped-pool.ts).
      await scopeStatement(db, scope, database.assumeRole, name);
      const statement = database.transactionStatement?.(name);
      const query = statement ? <Row>(sql: Prisma.Sql) => statement<Row>(sql.text, sql.values) : <Row>(sql: Prisma.Sql) => db.$queryRaw<Row[]>(sql);
      return work(effects.session(db, scope, query, (sql) => db.$executeRawUnsafe(sql)));
    }, { ...TRANSACTION_OPTIONS, timeout: timeoutMs });
    await effects.deliver(logger);
    return result;
  };
  const open = database.openSqlTransaction;
  if (!open) return { run, runSql: run };
  return {
    run,
    async runSql(scope, work) {
      const effects = new CommitEffects(events, onCommitted);
      const transaction = open(scopeQuery(scope, database.assumeRole));
      const query = <Row>(sql: Prisma.Sql) => transaction.query<Row>(sql.text, sql.values);
      const running = work(effects.session(NO_PRISMA, scope, query, (sql) => transaction.query(sql, [])));
      // Past the timeout it is rolled back (its later statements are refused) and its own outcome is ignored.
      running.catch(() => undefined);
      let timer: NodeJS.Timeout | undefined;
      const expired = new Promise<never>((_resolve, reject) => {
        timer = setTimeout(() => reject(new TransactionTimeout(timeoutMs)), timeoutMs);
      });
      let result: Awaited<ReturnType<typeof work>>;
      try {
        result = await Promise.race([running, expired]);
      } catch (error) {
        // A timed-out transaction may have a statement still running: a ROLLBACK would queue behind it.
        if (error instanceof TransactionTimeout) transaction.abandon();
        else await transaction.rollback();
        throw error;
      } finally {
        clearTimeout(timer);
      }
      await transaction.commit();
      await effects.deliver(logger);
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
