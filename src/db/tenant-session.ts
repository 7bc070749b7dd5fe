import type { Prisma } from '../generated/prisma/client.js';
import type { EventBus } from '../events/pubsub.js';
import type { PulseEventName, PulseEvents } from '../events/events.js';
import type { Logger } from '../logger.js';
import type { Database } from './database.js';

export type Role = 'customer' | 'operator' | 'iot_service';

/** Who a transaction acts for. `tenantId` null means "no tenant": RLS then shows nothing. */
export interface TenantScope {
  tenantId: string | null;
  role: Role;
  /** The JWT `sub`, the device id, or a worker name: recorded as the actor of writes. */
  actorId: string | null;
}

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
}

export interface SessionRunner {
  run<T>(scope: TenantScope, work: (session: TenantSession) => Promise<T>): Promise<T>;
}

const TRANSACTION_OPTIONS = { maxWait: 10_000, timeout: 30_000 } as const;

/** Builds the runner that opens tenant transactions; the only way application code reaches the database. */
export function createSessionRunner(database: Database, events: EventBus, logger: Logger): SessionRunner {
  return {
    async run(scope, work) {
      const queued: Array<() => void> = [];
      const afterCommitTasks: Array<() => Promise<void>> = [];
      const result = await database.prisma.$transaction(async (db) => {
        await applyScope(db, scope, database.assumeRole);
        return work({
          db,
          scope,
          publish(name, payload) {
            queued.push(() => events.publish(name, payload));
          },
          afterCommit(task) {
            afterCommitTasks.push(task);
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
 * Sets tenant, role and actor transaction-locally (`is_local = true`), so nothing leaks to the
 * next user of the pooled connection. Switching role is `set_config('role', ...)`: the same as
 * SET LOCAL ROLE, in the same round trip.
 */
async function applyScope(db: Tx, scope: TenantScope, assumeRole: string | null): Promise<void> {
  await scopeStatement(db, scope, assumeRole);
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
  };
}

function scopeStatement(db: Tx | Database['prisma'], scope: TenantScope, assumeRole: string | null) {
  const tenant = scope.tenantId ?? '';
  const actor = scope.actorId ?? '';
  return assumeRole
    ? db.$queryRaw`SELECT set_config('role', ${assumeRole}, true), set_config('app.tenant_id', ${tenant}, true), set_config('app.role', ${scope.role}, true), set_config('app.actor', ${actor}, true)`
    : db.$queryRaw`SELECT set_config('app.tenant_id', ${tenant}, true), set_config('app.role', ${scope.role}, true), set_config('app.actor', ${actor}, true)`;
}
