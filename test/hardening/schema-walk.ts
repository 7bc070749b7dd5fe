/**
 * Builds a query for every root field of a schema, from the schema itself: a field added by any
 * module is walked without anyone listing it. Arguments are generated from their types (required
 * ones always, `first` kept small, `tenantId` set to the tenant under attack); selections take every
 * field that needs no arguments, down to a few levels, and `__typename id` on every Node.
 */
import {
  getNamedType,
  isEnumType,
  isInputObjectType,
  isInterfaceType,
  isLeafType,
  isListType,
  isNonNullType,
  isObjectType,
  isUnionType,
  type GraphQLArgument,
  type GraphQLField,
  type GraphQLInputType,
  type GraphQLNamedType,
  type GraphQLSchema,
} from 'graphql';

export interface WalkValues {
  /** Values for arguments by name (`deviceId`, `siteId`, `tenantId`, `id`, ...). */
  byName: Record<string, unknown>;
}

/** Fields selected per query at most: the walk stays far below the operation limits. */
const FIELD_BUDGET = 800;
const MAX_NESTING = 5;

export function literal(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(literal).join(', ')}]`;
  if (value !== null && typeof value === 'object') {
    if ('__enum' in value) return String((value as { __enum: string }).__enum);
    return `{ ${Object.entries(value).map(([key, item]) => `${key}: ${literal(item)}`).join(', ')} }`;
  }
  return String(value);
}

/** A value of `type` for an argument or input field named `name` (required ones only recurse). */
export function valueFor(name: string, type: GraphQLInputType, values: WalkValues): unknown {
  if (name in values.byName) return values.byName[name];
  if (isNonNullType(type)) return valueFor(name, type.ofType, values);
  if (isListType(type)) return [valueFor(name, type.ofType, values)];
  if (isEnumType(type)) return { __enum: type.getValues()[0]!.name };
  if (isInputObjectType(type)) {
    const fields = Object.values(type.getFields()).filter((field) => isNonNullType(field.type) || field.name in values.byName);
    return Object.fromEntries(fields.map((field) => [field.name, valueFor(field.name, field.type, values)]));
  }
  switch (type.name) {
    case 'Int':
      return 1;
    case 'Float':
      return 1.5;
    case 'Boolean':
      return true;
    case 'DateTime':
      return new Date(Date.now() - (name === 'from' ? 3_600_000 : 0)).toISOString();
    case 'JSON':
    case 'JSONObject':
      return {};
    default:
      return 'x';
  }
}

function argumentsOf(field: GraphQLField<unknown, unknown>, values: WalkValues): string {
  const chosen = field.args.filter((arg: GraphQLArgument) => isNonNullType(arg.type) || arg.name === 'tenantId' || arg.name === 'first');
  if (chosen.length === 0) return '';
  return `(${chosen.map((arg) => `${arg.name}: ${literal(arg.name === 'first' ? 3 : valueFor(arg.name, arg.type, values))}`).join(', ')})`;
}

function selectionOf(schema: GraphQLSchema, type: GraphQLNamedType, values: WalkValues, depth: number, budget: { left: number }): string {
  const node = schema.getType('Node');
  const parts: string[] = ['__typename'];
  if (isUnionType(type) || isInterfaceType(type)) {
    const possible = schema.getPossibleTypes(type);
    if (node && possible.some((member) => member.getInterfaces().some((i) => i.name === 'Node'))) parts.push('... on Node { id }');
    if (depth < MAX_NESTING) {
      for (const member of possible) {
        if (budget.left <= 0) break;
        parts.push(`... on ${member.name} { ${selectionOf(schema, member, values, depth + 1, budget)} }`);
      }
    }
    return parts.join(' ');
  }
  if (!isObjectType(type)) return parts.join(' ');
  // Fields with required arguments of their own are walked as root fields or not at all.
  const fields = Object.values(type.getFields()).filter((field) => !field.args.some((arg) => isNonNullType(arg.type) && !(arg.name in values.byName)));
  const leaves = fields.filter((field) => isLeafType(getNamedType(field.type)));
  parts.push(...leaves.map((field) => field.name));
  budget.left -= leaves.length;
  if (depth >= MAX_NESTING) return parts.join(' ');
  // What is left is shared out evenly, so the first object fields cannot starve the others.
  const objects = fields.filter((field) => !isLeafType(getNamedType(field.type)));
  objects.forEach((field, index) => {
    const share = { left: Math.floor(budget.left / (objects.length - index)) };
    if (share.left <= 0) return;
    const before = share.left;
    parts.push(`${field.name}${argumentsOf(field, values)} { ${selectionOf(schema, getNamedType(field.type), values, depth + 1, share)} }`);
    budget.left -= before - share.left + 1;
  });
  return parts.join(' ');
}

/** One query per root Query field except `node` (walked per Node type instead). */
export function rootFieldQueries(schema: GraphQLSchema, values: WalkValues): Array<{ field: string; query: string }> {
  const query = schema.getQueryType()!;
  return Object.values(query.getFields())
    .filter((field) => field.name !== 'node')
    .map((field) => {
      const named = getNamedType(field.type);
      const selection = isLeafType(named) ? '' : ` { ${selectionOf(schema, named, values, 1, { left: FIELD_BUDGET })} }`;
      return { field: field.name, query: `{ ${field.name}${argumentsOf(field, values)}${selection} }` };
    });
}

/** Every object type implementing `Node`. */
export function nodeTypes(schema: GraphQLSchema): string[] {
  return Object.values(schema.getTypeMap())
    .filter((type) => isObjectType(type) && type.getInterfaces().some((i) => i.name === 'Node'))
    .map((type) => type.name)
    .sort();
}

/** Every `{ __typename, id }` pair found in a response. */
export function collectNodes(data: unknown, into: Map<string, string> = new Map()): Map<string, string> {
  const stack: unknown[] = [data];
  while (stack.length > 0) {
    const value = stack.pop();
    if (value === null || typeof value !== 'object') continue;
    const record = value as Record<string, unknown>;
    if (typeof record['__typename'] === 'string' && typeof record['id'] === 'string' && !into.has(record['__typename'])) {
      into.set(record['__typename'], record['id']);
    }
    stack.push(...Object.values(record));
  }
  return into;
}
