/** Errors that mean "the database cannot do this right now": classified here once for the retry loops. */
const TRANSIENT_PRISMA_CODES = new Set(['P1001', 'P1002', 'P1008', 'P1017', 'P2024', 'P2028', 'P2034']);
const TRANSIENT_SQLSTATES = new Set(['57P01', '57P02', '57P03', '53300', '40001', '40P01']);
const TRANSIENT_ADAPTER_KINDS = new Set(['DatabaseNotReachable', 'ConnectionClosed', 'SocketTimeout', 'TooManyConnections', 'TransactionWriteConflict']);
const TRANSIENT_NODE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENOTFOUND']);

/**
 * The database could not do the work right now, whatever the work was: unreachable, restarting,
 * refusing connections (a FATAL error ends the session), out of connections, a serialization
 * failure or deadlock. Retrying the same work later may succeed; a constraint or syntax error
 * would fail again.
 */
export function isTransientDatabaseError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const record = error as { code?: unknown; severity?: unknown; message?: unknown; meta?: { driverAdapterError?: { cause?: unknown } }; cause?: unknown };
  if (typeof record.code === 'string' && (TRANSIENT_PRISMA_CODES.has(record.code) || TRANSIENT_NODE_CODES.has(record.code))) return true;
  // Straight from `pg` (session.query): a server error carries severity and SQLSTATE itself.
  if (typeof record.severity === 'string' && typeof record.code === 'string') return isTransientPostgres(record.severity, record.code);
  if (typeof record.message === 'string' && /^Connection terminated|timeout exceeded when trying to connect/.test(record.message)) return true;
  const cause = (record.meta?.driverAdapterError?.cause ?? record.cause) as { kind?: string; code?: string; severity?: string } | undefined;
  if (!cause || typeof cause !== 'object') return false;
  if (cause.kind && TRANSIENT_ADAPTER_KINDS.has(cause.kind)) return true;
  if (cause.kind === 'postgres') return isTransientPostgres(cause.severity ?? '', cause.code ?? '');
  return isTransientDatabaseError(cause);
}

function isTransientPostgres(severity: string, code: string): boolean {
  return severity === 'FATAL' || severity === 'PANIC' || code.startsWith('08') || TRANSIENT_SQLSTATES.has(code);
}
