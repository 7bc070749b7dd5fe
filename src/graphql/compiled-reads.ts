/**
 * Compiled reads: a query whose every selected field declares how it reads in SQL (sql-reads.ts)
 * is answered by one statement that builds the response in PostgreSQL, in the operation's tenant
 * transaction (RLS applies to it like to any other statement). No Prisma result mapping, no
 * resolver per field: the JSON PostgreSQL returns is the response, once a few values SQL cannot
 * produce byte for byte (global IDs, cursors, page info) are set in JS.
 *
 * Anything else — a field without a read, an abstract type, `last`/`before`, arguments the
 * resolver would refuse — runs through the resolvers as before, so the resolver stays the one
 * definition of a field's answer and its errors.
 */
import {
  GraphQLObjectType,
  Kind,
  getArgumentValues,
  getNamedType,
  getOperationAST,
  getVariableValues,
  type DocumentNode,
  type ExecutionArgs,
  type ExecutionResult,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLField,
  type GraphQLSchema,
} from 'graphql';
import { collectFields, collectSubfields } from 'graphql/execution/collectFields.js';
import type { Plugin } from 'graphql-yoga';
import { formatPrismaCursor, parsePrismaCursor } from '@pothos/plugin-prisma';
import { Prisma } from '../generated/prisma/client.js';
import type { SessionRunner, TenantSession } from '../db/tenant-session.js';
import type { Metrics } from '../http/metrics.js';
import { structuralIssues } from '../kernel/validation.js';
import type { GraphQLContext } from './context.js';
import { SQL_READ_EXTENSION, type SqlPageRead, type SqlRead, type SqlRowRead } from './sql-reads.js';

/** This operation (or this selection) is not for the compiler; `always` when no variable could change that. */
class NotCompilable extends Error {
  constructor(
    message: string,
    readonly always: boolean,
  ) {
    super(message);
  }
}

/** Mutations run through their resolvers; they are not counted as queries the compiler passed on. */
class NotAQuery extends NotCompilable {
  constructor() {
    super('not a query', true);
  }
}

/** A condition of the resolver path was not met at run time (bad filter, foreign tenant): resolvers answer. */
class UseResolvers {
  constructor(readonly cause: unknown) {}
}

/** json_build_object takes at most 100 arguments: 50 keys. */
const MAX_KEYS_PER_OBJECT = 50;

/** What JS still does to an object SQL built: format some keys, recurse into nested objects. */
interface ObjectFinish {
  formats: Array<[string, (value: unknown) => unknown]>;
  nested: Array<[string, ObjectFinish]>;
}

interface CompiledObject {
  sql: Prisma.Sql;
  finish: ObjectFinish | null;
}

/** GraphQL names are /[_A-Za-z][_0-9A-Za-z]*\/: safe as SQL string literals. */
const literal = (name: string) => Prisma.raw(`'${name}'`);

function applyFinish(value: unknown, finish: ObjectFinish | null): void {
  if (!finish || value === null || typeof value !== 'object') return;
  if (Array.isArray(value)) {
    for (const item of value) applyFinish(item, finish);
    return;
  }
  const object = value as Record<string, unknown>;
  for (const [key, format] of finish.formats) object[key] = format(object[key]);
  for (const [key, nested] of finish.nested) applyFinish(object[key], nested);
}

function readOf(field: GraphQLField<unknown, unknown>): SqlRead | undefined {
  return field.extensions?.[SQL_READ_EXTENSION] as SqlRead | undefined;
}

interface CompileContext {
  schema: GraphQLSchema;
  fragments: Record<string, FragmentDefinitionNode>;
  variables: Record<string, unknown>;
  aliases: number;
}

function objectTypeOf(field: GraphQLField<unknown, unknown>): GraphQLObjectType {
  const type = getNamedType(field.type);
  if (!(type instanceof GraphQLObjectType)) throw new NotCompilable(`${field.name} is not of an object type`, true);
  return type;
}

function jsonObject(entries: Prisma.Sql[]): Prisma.Sql {
  if (entries.length > MAX_KEYS_PER_OBJECT) throw new NotCompilable('too many fields in one selection', true);
  return Prisma.sql`json_build_object(${Prisma.join(entries, ', ')})`;
}

/** The JSON object of `type` for the row `row`, with the selection of `fieldNodes`. */
function compileObject(ctx: CompileContext, type: GraphQLObjectType, fieldNodes: readonly FieldNode[], row: Prisma.Sql): CompiledObject {
  const fields = collectSubfields(ctx.schema, ctx.fragments, ctx.variables, type, fieldNodes);
  const entries: Prisma.Sql[] = [];
  const finish: ObjectFinish = { formats: [], nested: [] };
  for (const [key, nodes] of fields) {
    const name = nodes[0]!.name.value;
    if (name === '__typename') {
      entries.push(Prisma.sql`${literal(key)}, ${literal(type.name)}::text`);
      continue;
    }
    const field = type.getFields()[name];
    const read = field && readOf(field);
    if (!field || !read) throw new NotCompilable(`${type.name}.${name} has no SQL read`, true);
    if (field.args.length > 0) throw new NotCompilable(`${type.name}.${name} takes arguments`, true);
    if (read.kind === 'value') {
      entries.push(Prisma.sql`${literal(key)}, ${read.sql(row)}`);
      if (read.format) finish.formats.push([key, read.format]);
    } else if (read.kind === 'relation') {
      const child = Prisma.raw(`r${(ctx.aliases += 1)}`);
      const inner = compileObject(ctx, objectTypeOf(field), nodes, child);
      const from = read.from(row, child);
      const value = read.list
        ? Prisma.sql`COALESCE((SELECT json_agg(${inner.sql}${read.orderBy ? Prisma.sql` ORDER BY ${read.orderBy(child)}` : Prisma.empty}) FROM ${from}), '[]'::json)`
        : Prisma.sql`(SELECT ${inner.sql} FROM ${from} LIMIT 1)`;
      entries.push(Prisma.sql`${literal(key)}, ${value}`);
      if (inner.finish) finish.nested.push([key, inner.finish]);
    } else {
      throw new NotCompilable(`${type.name}.${name} reads only at the root`, true);
    }
  }
  return { sql: jsonObject(entries), finish: finish.formats.length || finish.nested.length ? finish : null };
}

/** One root field: its SQL (given the transaction, for conditions that read) and how JS completes its value. */
interface CompiledRoot {
  sql(session: TenantSession): Promise<Prisma.Sql>;
  finish(value: unknown): unknown;
}

async function conditionOrResolvers<T>(condition: () => Promise<T> | T): Promise<T> {
  try {
    return await condition();
  } catch (error) {
    throw new UseResolvers(error);
  }
}

/** A root field's arguments; those the argument guard refuses (NUL, `__proto__`) go to it, for its typed error. */
function argumentsOf(ctx: CompileContext, field: GraphQLField<unknown, unknown>, node: FieldNode): Record<string, unknown> {
  const args = getArgumentValues(field, node, ctx.variables);
  if (structuralIssues(args).length > 0) throw new NotCompilable('arguments the guard refuses', false);
  return args;
}

function compileRow(ctx: CompileContext, field: GraphQLField<unknown, unknown>, read: SqlRowRead, nodes: readonly FieldNode[]): CompiledRoot {
  const args = argumentsOf(ctx, field, nodes[0]!);
  const alias = Prisma.raw(read.alias);
  const object = compileObject(ctx, objectTypeOf(field), nodes, alias);
  return {
    async sql(session) {
      const condition = await conditionOrResolvers(() => read.condition(args, session));
      return Prisma.sql`(SELECT ${object.sql} FROM ${Prisma.raw(read.table)} ${alias} WHERE ${condition} LIMIT 1)`;
    },
    finish(value) {
      applyFinish(value, object.finish);
      return value;
    },
  };
}

/** A cursor of this page's key, or NotCompilable: the resolver reports a malformed one. */
function parseKeyCursor(cursor: unknown, read: SqlPageRead): string[] {
  let values: unknown;
  try {
    values = parsePrismaCursor(cursor);
  } catch {
    throw new NotCompilable('malformed cursor', false);
  }
  if (!Array.isArray(values) || values.length !== read.key.length || !values.every((value) => typeof value === 'string')) {
    throw new NotCompilable('cursor of another shape', false);
  }
  return values as string[];
}

type PagePart =
  | { key: string; kind: 'typename'; typename: string }
  | { key: string; kind: 'totalCount' }
  | { key: string; kind: 'pageInfo'; fields: Array<[string, string]>; typename: string }
  | { key: string; kind: 'edges'; fields: Array<{ key: string; kind: 'typename' | 'cursor' | 'node'; node?: number }>; typename: string };

interface PageRow {
  k: string[];
  [node: `n${number}`]: unknown;
}

function compilePage(ctx: CompileContext, field: GraphQLField<unknown, unknown>, read: SqlPageRead, nodes: readonly FieldNode[]): CompiledRoot {
  const args = argumentsOf(ctx, field, nodes[0]!);
  if (args['last'] != null || args['before'] != null) throw new NotCompilable('backward pages run through the resolver', false);
  const first = args['first'];
  if (first != null && (typeof first !== 'number' || first < 0)) throw new NotCompilable('the resolver refuses this page size', false);
  const limit = Math.min((first as number | null | undefined) ?? read.defaultSize, read.maxSize) + 1;
  const after = args['after'] != null ? parseKeyCursor(args['after'], read) : null;
  const alias = Prisma.raw(read.alias);
  const keyColumns = read.key.map((key) => Prisma.raw(`${read.alias}.${key.column}`));
  const connectionType = objectTypeOf(field);
  const parts: PagePart[] = [];
  const nodeObjects: CompiledObject[] = [];
  for (const [key, connectionNodes] of collectSubfields(ctx.schema, ctx.fragments, ctx.variables, connectionType, nodes)) {
    const name = connectionNodes[0]!.name.value;
    if (name === '__typename') parts.push({ key, kind: 'typename', typename: connectionType.name });
    else if (name === 'totalCount') parts.push({ key, kind: 'totalCount' });
    else if (name === 'pageInfo') {
      const pageInfoType = objectTypeOf(connectionType.getFields()['pageInfo']!);
      const fields: Array<[string, string]> = [];
      for (const [infoKey, infoNodes] of collectSubfields(ctx.schema, ctx.fragments, ctx.variables, pageInfoType, connectionNodes)) {
        const infoName = infoNodes[0]!.name.value;
        if (!['hasNextPage', 'hasPreviousPage', 'startCursor', 'endCursor', '__typename'].includes(infoName)) {
          throw new NotCompilable(`PageInfo.${infoName}`, true);
        }
        fields.push([infoKey, infoName]);
      }
      parts.push({ key, kind: 'pageInfo', fields, typename: pageInfoType.name });
    } else if (name === 'edges') {
      const edgeType = objectTypeOf(connectionType.getFields()['edges']!);
      const edgeFields: Array<{ key: string; kind: 'typename' | 'cursor' | 'node'; node?: number }> = [];
      for (const [edgeKey, edgeNodes] of collectSubfields(ctx.schema, ctx.fragments, ctx.variables, edgeType, connectionNodes)) {
        const edgeName = edgeNodes[0]!.name.value;
        if (edgeName === '__typename' || edgeName === 'cursor') edgeFields.push({ key: edgeKey, kind: edgeName === 'cursor' ? 'cursor' : 'typename' });
        else if (edgeName === 'node') {
          nodeObjects.push(compileObject(ctx, objectTypeOf(edgeType.getFields()['node']!), edgeNodes, alias));
          edgeFields.push({ key: edgeKey, kind: 'node', node: nodeObjects.length - 1 });
        } else throw new NotCompilable(`${edgeType.name}.${edgeName}`, true);
      }
      parts.push({ key, kind: 'edges', fields: edgeFields, typename: edgeType.name });
    } else throw new NotCompilable(`${connectionType.name}.${name}`, true);
  }
  const needsRows = parts.some((part) => part.kind === 'edges' || part.kind === 'pageInfo');
  const needsCount = parts.some((part) => part.kind === 'totalCount');
  const cursorFields = read.key.map((key) => key.field);
  const cursorOf = (row: PageRow) => formatPrismaCursor(Object.fromEntries(cursorFields.map((name, index) => [name, row.k[index]])), cursorFields);
  return {
    async sql(session) {
      const condition = await conditionOrResolvers(() => read.condition(args, session));
      const table = Prisma.raw(read.table);
      const entries: Prisma.Sql[] = [];
      if (needsRows) {
        const afterCondition = after ? Prisma.sql`AND (${Prisma.join(keyColumns)}) > (${Prisma.join(after)})` : Prisma.empty;
        const rowObject = jsonObject([
          Prisma.sql`'k', json_build_array(${Prisma.join(keyColumns)})`,
          ...nodeObjects.map((node, index) => Prisma.sql`${literal(`n${index}`)}, ${node.sql}`),
        ]);
        const order = Prisma.join(keyColumns);
        entries.push(
          Prisma.sql`'rows', (SELECT COALESCE(json_agg(${rowObject} ORDER BY ${order}), '[]'::json) FROM (SELECT * FROM ${table} ${alias} WHERE ${condition} ${afterCondition} ORDER BY ${order} LIMIT ${limit}) ${alias})`,
        );
      }
      if (needsCount) entries.push(Prisma.sql`'count', (SELECT count(*) FROM ${table} ${alias} WHERE ${condition})`);
      return jsonObject(entries);
    },
    finish(value) {
      const page = value as { rows?: PageRow[]; count?: number };
      const fetched = page.rows ?? [];
      const full = fetched.length === limit;
      const rows = full ? fetched.slice(0, -1) : fetched;
      const cursors = parts.some((part) => part.kind === 'pageInfo' || (part.kind === 'edges' && part.fields.some((f) => f.kind === 'cursor')))
        ? rows.map(cursorOf)
        : [];
      const connection: Record<string, unknown> = {};
      for (const part of parts) {
        if (part.kind === 'typename') connection[part.key] = part.typename;
        else if (part.kind === 'totalCount') connection[part.key] = page.count ?? 0;
        else if (part.kind === 'pageInfo') {
          const info: Record<string, unknown> = {};
          for (const [key, name] of part.fields) {
            if (name === 'hasNextPage') info[key] = full;
            else if (name === 'hasPreviousPage') info[key] = after !== null;
            else if (name === 'startCursor') info[key] = cursors[0] ?? null;
            else if (name === 'endCursor') info[key] = cursors[cursors.length - 1] ?? null;
            else info[key] = part.typename;
          }
          connection[part.key] = info;
        } else {
          connection[part.key] = rows.map((row, index) => {
            const edge: Record<string, unknown> = {};
            for (const edgeField of part.fields) {
              if (edgeField.kind === 'typename') edge[edgeField.key] = part.typename;
              else if (edgeField.kind === 'cursor') edge[edgeField.key] = cursors[index];
              else {
                const node = row[`n${edgeField.node!}`];
                applyFinish(node, nodeObjects[edgeField.node!]!.finish);
                edge[edgeField.key] = node;
              }
            }
            return edge;
          });
        }
      }
      return connection;
    },
  };
}

interface CompiledOperation {
  roots: Array<{ key: string; typename?: string; root?: CompiledRoot }>;
}

/** The operation as one statement, or NotCompilable. */
function compileOperation(args: ExecutionArgs): CompiledOperation {
  const operation = getOperationAST(args.document, args.operationName);
  if (!operation || operation.operation !== 'query') throw new NotAQuery();
  const queryType = args.schema.getQueryType()!;
  const coerced = getVariableValues(args.schema, operation.variableDefinitions ?? [], (args.variableValues ?? {}) as Record<string, unknown>, { maxErrors: 1 });
  if (coerced.errors) throw new NotCompilable('variables the executor reports on', false);
  const fragments: Record<string, FragmentDefinitionNode> = {};
  for (const definition of args.document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments[definition.name.value] = definition;
  }
  const ctx: CompileContext = { schema: args.schema, fragments, variables: coerced.coerced, aliases: 0 };
  const roots: CompiledOperation['roots'] = [];
  for (const [key, nodes] of collectFields(args.schema, fragments, ctx.variables, queryType, operation.selectionSet)) {
    const name = nodes[0]!.name.value;
    if (name === '__typename') {
      roots.push({ key, typename: queryType.name });
      continue;
    }
    const field = queryType.getFields()[name];
    const read = field && readOf(field);
    if (!field || !read) throw new NotCompilable(`Query.${name} has no SQL read`, true);
    if (read.kind === 'page') roots.push({ key, root: compilePage(ctx, field, read, nodes) });
    else if (read.kind === 'row') roots.push({ key, root: compileRow(ctx, field, read, nodes) });
    else throw new NotCompilable(`Query.${name} is not a root read`, true);
  }
  if (!roots.some((root) => root.root)) throw new NotCompilable('nothing to read', true);
  return { roots };
}

/** Runs a compiled operation in one tenant transaction: one statement, the data as PostgreSQL built it. */
async function executeCompiled(runner: SessionRunner, context: GraphQLContext, compiled: CompiledOperation): Promise<ExecutionResult> {
  return runner.run(context.scope, async (session) => {
    context.session = session;
    const entries: Prisma.Sql[] = [];
    for (const { key, root } of compiled.roots) if (root) entries.push(Prisma.sql`${literal(key)}, ${await root.sql(session)}`);
    const [row] = await session.query<{ data: string }>(Prisma.sql`SELECT ${jsonObject(entries)}::text AS data`);
    const values = JSON.parse(row!.data) as Record<string, unknown>;
    const data: Record<string, unknown> = {};
    for (const { key, typename, root } of compiled.roots) data[key] = root ? root.finish(values[key]) : typename;
    return { data };
  });
}

/**
 * The yoga plugin; registered after useTenantTransaction, whose execution it falls back to. A
 * document found not compilable whatever its variables is remembered, so the common case of a
 * query the compiler does not cover costs one lookup.
 */
export function useCompiledReads(runner: SessionRunner, metrics: Pick<Metrics, 'graphqlCompiledReads'>): Plugin<GraphQLContext> {
  // Per document and operation name: whether it is a query (counted when handed to the resolvers).
  const neverCompilable = new WeakMap<DocumentNode, Map<string | null, boolean>>();
  const compiledCount = metrics.graphqlCompiledReads.labels('compiled');
  const resolversCount = metrics.graphqlCompiledReads.labels('resolvers');
  return {
    onExecute({ setExecuteFn, executeFn }) {
      const resolve = (args: ExecutionArgs, counted = true) => {
        if (counted) resolversCount.inc();
        return executeFn(args);
      };
      setExecuteFn(async (args) => {
        const operationName = args.operationName ?? null;
        const known = neverCompilable.get(args.document)?.get(operationName);
        if (known !== undefined) return resolve(args, known);
        let compiled: CompiledOperation;
        try {
          compiled = compileOperation(args);
        } catch (error) {
          if (!(error instanceof NotCompilable)) throw error;
          const isQuery = !(error instanceof NotAQuery);
          if (error.always) {
            const names = neverCompilable.get(args.document) ?? new Map<string | null, boolean>();
            names.set(operationName, isQuery);
            neverCompilable.set(args.document, names);
          }
          return resolve(args, isQuery);
        }
        try {
          const result = await executeCompiled(runner, args.contextValue as GraphQLContext, compiled);
          compiledCount.inc();
          return result;
        } catch (error) {
          if (error instanceof UseResolvers) return resolve(args);
          throw error;
        }
      });
    },
  };
}
