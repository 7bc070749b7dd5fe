import { NotFoundError, ValidationError } from '../../kernel/errors.js';
import { checkViolationConstraint, isForeignKeyViolation, sqlStateOf, SQLSTATE } from '../../kernel/sql-errors.js';

/** Which input field each CHECK constraint of device_connections guards. */
const CHECK_FIELDS: Readonly<Record<string, { field: string; message: string }>> = {
  device_connections_connection_type_check: { field: 'connectionType', message: 'is not a known connection type' },
  device_connections_sim_status_check: { field: 'simStatus', message: 'is not a known SIM status' },
  device_connections_network_status_check: { field: 'networkStatus', message: 'is not a known network status' },
  device_connections_data_limit_mb_nonnegative: { field: 'dataLimitMb', message: 'must not be negative' },
  device_connections_billing_cycle_start_range: { field: 'billingCycleStart', message: 'must be between 1 and 28' },
  device_connections_data_used_mb_nonnegative: { field: 'dataUsedMb', message: 'must not be negative' },
};

/**
 * Maps a database error from a device_connections write to the typed error a client can act on,
 * or null when it is not one of ours (then it is a bug and stays an unexpected error). The
 * service validates first, so reaching this means validation and the schema disagree; the client
 * still gets a precise answer instead of "unexpected error".
 */
export function connectionWriteError(error: unknown, deviceId: string): Error | null {
  const constraint = checkViolationConstraint(error);
  if (constraint !== null) {
    const known = Object.hasOwn(CHECK_FIELDS, constraint) ? CHECK_FIELDS[constraint] : undefined;
    return known
      ? ValidationError.single(['input', known.field], known.message, 'CHECK_VIOLATION')
      : ValidationError.single(['input'], `violates ${constraint}`, 'CHECK_VIOLATION');
  }
  // 22P02 invalid_text_representation: the only free-text column with a type of its own is INET.
  if (sqlStateOf(error) === SQLSTATE.invalidTextRepresentation) {
    return ValidationError.single(['input', 'ipAddress'], 'must be an IPv4 or IPv6 address, optionally with a /prefix', 'INVALID_FORMAT');
  }
  if (isForeignKeyViolation(error)) return new NotFoundError('Device', deviceId);
  return null;
}
