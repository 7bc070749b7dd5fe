/**
 * A `pg` pool whose transactions start lazily and send their scope in the same round trip as
 * their first statement. Prisma's pg adapter opens an interactive transaction by taking a
 * connection and sending `BEGIN`; from this pool it gets a {@link LazyTransactionClient}, which
 * answers that `BEGIN` itself, holds back the tenant scope (`set_config(…, true)`, the runner's
 * first statement), and when the first real statement arrives takes a pooled connection and
 * writes `BEGIN`, the scope and the statement together (pipelined: one write, one wait). A
 * transaction that runs nothing but its scope never takes a connection, and its `COMMIT` goes
 * nowhere.
 *
 * Prisma keeps owning the transaction (its id, timeout and the batching of its queries), so two
 * operations' queries are never mixed up: this only changes what goes over the wire, and when.
 */
import { EventEmitter } from 'node:events';
import pg from 'pg';

type QueryConfig = pg.QueryConfig & { rowMode?: 'array' };
type AnyResult = pg.QueryResult | pg.QueryArrayResult;

/** What the adapter gets back for a statement that was not sent (yet): no rows. */
const NOTHING_SENT: pg.QueryResult = { command: '', rowCount: 0, oid: 0, fields: [], rows: [] };

export interface ScopedPoolOptions extends pg.PoolConfig {
  /** The exact texts of the scope statements (tenant-session.ts); held back to go with the next statement. */
  scopeStatements: readonly string[];
  /**
   * Whether the first statement may be written before the scope is confirmed. Safe when the
   * connecting role is itself bound by RLS (a failed `set_config` leaves it seeing nothing); when
   * the pool connects as a role that bypasses RLS and only `set_config('role', …)` binds it, the
   * first statement waits for the scope instead, so no statement can ever run unscoped.
   */
  pipelineFirstStatement: boolean;
}

/** A pool whose `connect()` hands out lazily opened, pre-scoped transaction connections. */
export class ScopedPool extends pg.Pool {
  readonly scopeStatements: ReadonlySet<string>;
  readonly pipelineFirstStatement: boolean;
  /** Open transactions by the name their scope statement carries (its last value, `app.transaction`). */
  private readonly named = new Map<string, LazyTransactionClient>();

  constructor({ scopeStatements, pipelineFirstStatement, ...config }: ScopedPoolOptions) {
    // Pipeline mode: a query is written as soon as it is issued, not after the previous answer.
    super({ ...config, pipeline: true });
    this.scopeStatements = new Set(scopeStatements);
    this.pipelineFirstStatement = pipelineFirstStatement;
  }

  /**
   * The connection of the open transaction whose scope named it `name`: statements sent on it go
   * in order with Prisma's own on that transaction (the same queue), skipping Prisma's client.
   */
  transaction(name: string): LazyTransactionClient | undefined {
    return this.named.get(name);
  }

  /** @internal by LazyTransactionClient */
  nameTransaction(name: string, client: LazyTransactionClient | null): void {
    if (client) this.named.set(name, client);
    else this.named.delete(name);
  }

  /** A pooled connection now: what a `LazyTransactionClient` opens when it needs one. */
  connectNow(): Promise<pg.PoolClient> {
    return super.connect();
  }

  /** Prisma's adapter calls this to start a transaction (its only use of `connect`). */
  override connect(): Promise<pg.PoolClient>;
  override connect(callback: (err: Error | undefined, client: pg.PoolClient | undefined, done: (release?: unknown) => void) => void): void;
  override connect(callback?: (err: Error | undefined, client: pg.PoolClient | undefined, done: (release?: unknown) => void) => void): Promise<pg.PoolClient> | void {
    if (callback) return super.connect(callback);
    return Promise.resolve(new LazyTransactionClient(this) as unknown as pg.PoolClient);
  }
}

/**
 * Stands in for a pooled connection for the length of one transaction. The adapter's `BEGIN` is
 * held back; the first other statement opens the real connection with `BEGIN`, the scope and
 * itself in one write. `COMMIT`/`ROLLBACK` of a transaction that sent nothing are answered here.
 */
export class LazyTransactionClient extends EventEmitter {
  private client: pg.PoolClient | undefined;
  /** Resolves once statements may be written behind the opening ones. */
  private opened: Promise<pg.PoolClient> | undefined;
  private released = false;
  // Only while the adapter listens: an 'error' event nobody listens to would throw.
  private readonly forwardError = (error: Error) => {
    if (this.listenerCount('error') > 0) this.emit('error', error);
  };

  /** The scope statement, held until the first statement it is sent with. */
  private scope: QueryConfig | undefined;
  /** The runner's name for this transaction, from its scope statement ('' for none). */
  private name = '';

  constructor(private readonly pool: ScopedPool) {
    super();
  }

  query(config: QueryConfig | string): Promise<AnyResult> {
    const query: QueryConfig = typeof config === 'string' ? { text: config } : config;
    if (this.released) return Promise.reject(new Error('query on a released transaction connection'));
    if (this.client) return this.client.query(query);
    if (this.opened) return this.opened.then((client) => client.query(query));
    const command = query.text.trim().toUpperCase();
    // The adapter's BEGIN is sent with the first statement; an end with nothing sent needs no round trip.
    if (command === 'BEGIN' || command === 'COMMIT' || command === 'ROLLBACK') return Promise.resolve(NOTHING_SENT);
    // Its answer (the values just set) is not read; its failure fails the statement it goes with.
    if (!this.scope && this.pool.scopeStatements.has(query.text)) {
      this.scope = query;
      const name = query.values?.at(-1);
      if (typeof name === 'string' && name !== '') {
        this.name = name;
        this.pool.nameTransaction(name, this);
      }
      return Promise.resolve(NOTHING_SENT);
    }
    return this.open(query);
  }

  private open(first: QueryConfig): Promise<AnyResult> {
    const connection = this.pool.connectNow();
    const written = connection.then((client) => {
      this.client = client;
      client.on('error', this.forwardError);
      const stream = (client as unknown as { connection?: { stream?: { cork?(): void; uncork?(): void } } }).connection?.stream;
      stream?.cork?.();
      try {
        const begin = client.query('BEGIN');
        const scoped = this.scope ? client.query(this.scope) : Promise.resolve(NOTHING_SENT);
        const result = this.pool.pipelineFirstStatement ? client.query(first) : undefined;
        return { client, begin, scoped, result };
      } finally {
        stream?.uncork?.();
      }
    });
    // Statements issued while opening go behind the opening ones (and, unpipelined, behind the scope).
    this.opened = written.then(async ({ client, begin, scoped }) => {
      if (!this.pool.pipelineFirstStatement) await Promise.all([begin, scoped]);
      return client;
    });
    // Its failure reaches every statement that waits on it; unawaited, it must not be unhandled.
    this.opened.catch(() => undefined);
    return written.then(async ({ client, begin, scoped, result }) => {
      const [began, scopedOutcome, outcome] = await Promise.allSettled([begin, scoped, result ?? Promise.resolve(undefined)]);
      // A statement's answer counts only if it ran inside the scoped transaction.
      if (began.status === 'rejected') throw began.reason;
      if (scopedOutcome.status === 'rejected') throw scopedOutcome.reason;
      if (!result) return client.query(first);
      if (outcome.status === 'rejected') throw outcome.reason;
      return outcome.value as AnyResult;
    });
  }

  /** Returns the connection to the pool (destroyed when `error` is set), if one was taken. */
  release(error?: Error | boolean): void {
    if (this.released) return;
    this.released = true;
    if (this.name) this.pool.nameTransaction(this.name, null);
    const client = this.client;
    if (client) {
      client.removeListener('error', this.forwardError);
      client.release(error);
    } else if (this.opened) {
      void this.opened.then(
        (opened) => {
          opened.removeListener('error', this.forwardError);
          opened.release(error);
        },
        () => undefined,
      );
    }
  }
}
