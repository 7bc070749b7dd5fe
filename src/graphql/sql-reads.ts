/**
 * How a field reads in SQL, declared next to its resolver: the vocabulary of compiled reads
 * (compiled-reads.ts). A query whose every selected field carries one of these is answered by one
 * SQL statement that builds the response's JSON in PostgreSQL (as Hasura and PostGraphile v4 do),
 * inside the same RLS-scoped tenant transaction; any other query runs through the resolvers. The
 * resolver stays the definition: test/graphql/compiled-reads.test.ts runs every annotated field
 * both ways and requires the same JSON.
 *
 * A read is written over SQL aliases, never table names the compiler guesses: `row` is the alias of
 * the parent type's row, `child` the alias the compiler allocated for a relation's row.
 */
import { Prisma } from '../generated/prisma/client.js';
import type { TenantSession } from '../db/tenant-session.js';

/** A scalar (or enum, or JSON) value: an expression over the row whose JSON is the field's output. */
export interface SqlValueRead {
  kind: 'value';
  sql(row: Prisma.Sql): Prisma.Sql;
  /** A last step in JS for what SQL cannot produce byte for byte (a global ID's encoding). */
  format?(value: unknown): unknown;
}

/** An object or a list of objects of the field's type, one row (or rows) of a related table. */
export interface SqlRelationRead {
  kind: 'relation';
  list: boolean;
  /** `<table> <child> WHERE <join to row>`: what follows FROM. */
  from(row: Prisma.Sql, child: Prisma.Sql): Prisma.Sql;
  /** List order (required for lists: a list without ORDER BY has no defined order). */
  orderBy?(child: Prisma.Sql): Prisma.Sql;
}

/** The key of a page: the columns it is ordered by and the object fields its cursor encodes. */
export interface SqlPageKey {
  column: string;
  field: string;
}

/**
 * A root connection (`Query.devices`): a page of rows by key order, Relay arguments `first` and
 * `after` (others run through the resolvers), `totalCount` over the same condition.
 */
export interface SqlPageRead {
  kind: 'page';
  table: string;
  /** The alias `condition` is written over. */
  alias: string;
  /** The page's condition (RLS applies as well); may read the database (a group's members). */
  condition(args: Record<string, unknown>, session: TenantSession): Promise<Prisma.Sql>;
  key: readonly SqlPageKey[];
  defaultSize: number;
  maxSize: number;
}

/** A root field returning one row or null (`Query.device`). */
export interface SqlRowRead {
  kind: 'row';
  table: string;
  alias: string;
  /** Throws when the arguments are not for this caller: the query then runs through its resolver. */
  condition(args: Record<string, unknown>, session: TenantSession): Promise<Prisma.Sql> | Prisma.Sql;
}

export type SqlRead = SqlValueRead | SqlRelationRead | SqlPageRead | SqlRowRead;

/** The key under which a field's `extensions` carry its read. */
export const SQL_READ_EXTENSION = 'pulseSqlRead';

/** `extensions` for a Pothos field option: `t.exposeString('name', { extensions: sqlRead(...) })`. */
export function sqlRead(read: SqlRead): { [SQL_READ_EXTENSION]: SqlRead } {
  return { [SQL_READ_EXTENSION]: read };
}

/** A column as it is (text, integer, boolean, jsonb). */
export function sqlColumn(column: string) {
  return sqlRead({ kind: 'value', sql: (row) => Prisma.sql`${row}.${Prisma.raw(column)}` });
}

/** A timestamptz as the DateTime scalar writes it (`Date.prototype.toISOString`: UTC, milliseconds). */
export function sqlTimestamp(column: string) {
  return sqlRead({
    kind: 'value',
    sql: (row) => Prisma.sql`to_char(${row}.${Prisma.raw(column)} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`,
  });
}

/** Any expression over the row, with an optional last step in JS. */
export function sqlValue(sql: (row: Prisma.Sql) => Prisma.Sql, format?: (value: unknown) => unknown) {
  return sqlRead({ kind: 'value', sql, ...(format && { format }) });
}

/**
 * Rows of `table` sharing the parent's `(tenant_id, device_id)`-style key: `columns` are joined
 * by name on both sides. A list needs `orderBy`.
 */
export function sqlRelation(table: string, columns: readonly string[], options: { list: boolean; orderBy?: string }) {
  const { list, orderBy } = options;
  if (list && !orderBy) throw new TypeError(`a list relation over ${table} needs an order`);
  return sqlRead({
    kind: 'relation',
    list,
    from: (row, child) =>
      Prisma.sql`${Prisma.raw(table)} ${child} WHERE ${Prisma.join(
        columns.map((column) => Prisma.sql`${child}.${Prisma.raw(column)} = ${row}.${Prisma.raw(column)}`),
        ' AND ',
      )}`,
    ...(orderBy && { orderBy: (child: Prisma.Sql) => Prisma.sql`${child}.${Prisma.raw(orderBy)}` }),
  });
}
