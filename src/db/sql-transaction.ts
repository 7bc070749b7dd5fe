/**
 * A tenant transaction for work that only sends raw SQL (the MQTT ingest batches): straight on a
 * pooled `pg` connection, with none of Prisma's interactive-transaction machinery. It opens the
 * way every tenant transaction on PostgreSQL does (scoped-pool.ts): nothing is sent until the
 * first statement, which goes out with `BEGIN` and the scope in one write; a transaction that
 * sends nothing takes no connection.
 */
import type { LazyTransactionClient } from './scoped-pool.js';

/** One raw-SQL transaction on PostgreSQL; its owner ends it with `commit` or `rollback`. */
export interface SqlTransaction {
  /** Rows as `pg` decodes them (as `TenantSession.query`). */
  query<Row>(text: string, values: readonly unknown[]): Promise<Row[]>;
  commit(): Promise<void>;
  /** Rolls back what was sent; a connection that cannot even roll back is destroyed, not pooled. */
  rollback(): Promise<void>;
  /**
   * Ends it at once, without waiting for a statement still running (a lock wait, a hung server):
   * the connection is destroyed, which the server takes as a rollback.
   */
  abandon(): void;
}

/**
 * Wraps a pool's lazy transaction connection: `scope` is held back by it and sent with the first
 * statement, and `statementName` (when given) names each text's prepared statement.
 */
export function sqlTransaction(client: LazyTransactionClient, scope: { text: string; values: readonly unknown[] }, statementName?: (text: string) => string): SqlTransaction {
  let ended = false;
  const end = (command: 'COMMIT' | 'ROLLBACK') => {
    if (ended) throw new Error(`${command} on a transaction that already ended`);
    ended = true;
    return client.query(command);
  };
  // Recognised by its text (scope-sql.ts) and held until the first statement; answered at once.
  void client.query({ text: scope.text, values: [...scope.values] });
  return {
    async query<Row>(text: string, values: readonly unknown[]) {
      // After COMMIT or ROLLBACK the connection is outside any transaction: its scope and role
      // switch are gone, so a late statement (work that outlived its transaction) must not be sent.
      if (ended) throw new Error('statement on a transaction that already ended');
      const result = await client.query({ text, values: values as unknown[], ...(statementName && { name: statementName(text) }) });
      return result.rows as Row[];
    },
    async commit() {
      try {
        await end('COMMIT');
      } catch (error) {
        // A failed COMMIT leaves the server in no known state for this connection: never reuse it.
        client.release(error instanceof Error ? error : true);
        throw error;
      }
      client.release();
    },
    abandon() {
      ended = true;
      client.release(new Error('transaction abandoned'));
    },
    async rollback() {
      if (ended) return client.release(true);
      try {
        await end('ROLLBACK');
      } catch (error) {
        client.release(error instanceof Error ? error : true);
        return;
      }
      client.release();
    },
  };
}
