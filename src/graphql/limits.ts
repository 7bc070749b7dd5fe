/**
 * The abuse limits of one GraphQL operation, the same for HTTP and WebSocket: tokens (before the
 * parser builds anything), shape (depth, introspection, aliases, directives, expanded selections:
 * a validation rule), and cost (at execution, when variable values are known: `first: $n` counts
 * as much as `first: 500`). Each refusal is a GraphQLError with a code and HTTP status 400.
 */
import {
  GraphQLError,
  Kind,
  Lexer,
  Source,
  TokenKind,
  getArgumentValues,
  getNamedType,
  getNullableType,
  getOperationAST,
  isInterfaceType,
  isListType,
  isObjectType,
  type ASTVisitor,
  type DocumentNode,
  type ExecutionArgs,
  type ExecutionResult,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLField,
  type GraphQLNamedType,
  type GraphQLSchema,
  type SelectionSetNode,
  type ValidationContext,
} from 'graphql';
import type { Plugin } from 'graphql-yoga';

export type LimitCode = 'QUERY_TOO_LARGE' | 'QUERY_TOO_DEEP' | 'QUERY_TOO_COMPLEX' | 'TOO_MANY_ALIASES' | 'TOO_MANY_DIRECTIVES' | 'INTROSPECTION_TOO_DEEP';

export interface OperationLimits {
  maxTokens: number;
  /** Field nesting outside introspection. */
  maxDepth: number;
  /** Field nesting inside `__schema` / `__type` (the standard introspection query needs 15). */
  maxIntrospectionDepth: number;
  /** Every alias counts, `__typename` ones too. */
  maxAliases: number;
  maxDirectives: number;
  /** Field selections once fragments are expanded (bounds every walk of the document). */
  maxSelections: number;
  /** See {@link operationCost}. */
  maxCost: number;
}

export const DEFAULT_OPERATION_LIMITS: Omit<OperationLimits, 'maxTokens' | 'maxDepth'> = {
  maxIntrospectionDepth: 20,
  maxAliases: 30,
  maxDirectives: 50,
  maxSelections: 5_000,
  // A page of 500 devices with every plain field and their tags costs about 20,000.
  maxCost: 50_000,
};

/** A refused operation: a code clients can branch on, HTTP 400, no "Syntax Error:" prefix. */
export function limitError(code: LimitCode, message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code, http: { status: 400 } } });
}

/** Throws QUERY_TOO_LARGE when `query` has more than `maxTokens` lexical tokens; counts no further. */
export function assertTokenLimit(query: string, maxTokens: number): void {
  const lexer = new Lexer(new Source(query));
  let count = 0;
  try {
    while (count <= maxTokens && lexer.advance().kind !== TokenKind.EOF) count += 1;
  } catch {
    return; // not a document at all: the parser reports the syntax error itself
  }
  if (count > maxTokens) throw limitError('QUERY_TOO_LARGE', `The document has more than ${maxTokens} tokens`);
}

/** Lists of introspection types: one of each per path, or `fields { type { fields … } }` multiplies. */
const INTROSPECTION_LISTS = ['types', 'fields', 'inputFields', 'interfaces', 'possibleTypes', 'enumValues', 'args', 'directives'];

/** What a selection set amounts to once its fragments are expanded. */
interface Shape {
  depth: number;
  introspectionDepth: number;
  aliases: number;
  directives: number;
  selections: number;
  /** Masks of the introspection lists along each path below (bit i: INTROSPECTION_LISTS[i]). */
  listPaths: Set<number>;
  /** Some path below has one of those names twice (meaningful inside introspection only). */
  repeatsList: boolean;
  /** Some path below `__schema` / `__type` has an introspection list twice. */
  introspectionRepeats: boolean;
}

const EMPTY: Shape = { depth: 0, introspectionDepth: 0, aliases: 0, directives: 0, selections: 0, listPaths: new Set([0]), repeatsList: false, introspectionRepeats: false };

function shapeOf(set: SelectionSetNode | undefined, context: ValidationContext, fragments: Map<string, Shape | null>): Shape {
  if (!set) return EMPTY;
  const shape: Shape = { ...EMPTY, listPaths: new Set([0]) };
  const merge = (child: Shape, depthOffset: number, field?: FieldNode) => {
    const introspection = field !== undefined && (field.name.value === '__schema' || field.name.value === '__type');
    const childDepth = Math.max(child.depth, child.introspectionDepth) + depthOffset;
    if (introspection) shape.introspectionDepth = Math.max(shape.introspectionDepth, childDepth);
    else {
      shape.depth = Math.max(shape.depth, field ? child.depth + depthOffset : child.depth);
      shape.introspectionDepth = Math.max(shape.introspectionDepth, field ? child.introspectionDepth + depthOffset : child.introspectionDepth);
    }
    shape.aliases += child.aliases;
    shape.directives += child.directives;
    shape.selections += child.selections;
    const bit = field ? INTROSPECTION_LISTS.indexOf(field.name.value) : -1;
    shape.repeatsList ||= child.repeatsList;
    // Data fields may well be called `fields` or `interfaces`: only lists below an introspection root count.
    shape.introspectionRepeats ||= child.introspectionRepeats || (introspection && child.repeatsList);
    for (const mask of child.listPaths) {
      if (bit >= 0 && mask & (1 << bit)) shape.repeatsList = true;
      shape.listPaths.add(bit >= 0 ? mask | (1 << bit) : mask);
    }
  };
  for (const selection of set.selections) {
    shape.directives += selection.directives?.length ?? 0;
    if (selection.kind === Kind.FIELD) {
      const child = shapeOf(selection.selectionSet, context, fragments);
      merge({ ...child, aliases: child.aliases + (selection.alias ? 1 : 0), selections: child.selections + 1 }, 1, selection);
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      merge(shapeOf(selection.selectionSet, context, fragments), 0);
    } else {
      const name = selection.name.value;
      if (!fragments.has(name)) {
        fragments.set(name, null); // in progress: a cycle (reported by NoFragmentCyclesRule) adds nothing
        const definition: FragmentDefinitionNode | null | undefined = context.getFragment(name);
        const fragmentShape = definition ? shapeOf(definition.selectionSet, context, fragments) : EMPTY;
        fragments.set(name, { ...fragmentShape, directives: fragmentShape.directives + (definition?.directives?.length ?? 0) });
      }
      merge(fragments.get(name) ?? EMPTY, 0);
    }
  }
  return shape;
}

/**
 * Refuses an operation whose expanded shape is over a limit. Fragments are summarised once each,
 * so a document that spreads fragments into each other costs its size, not its expansion.
 */
export function operationShapeRule(limits: OperationLimits): (context: ValidationContext) => ASTVisitor {
  return (context) => ({
    OperationDefinition(operation) {
      const shape = shapeOf(operation.selectionSet, context, new Map());
      const refuse = (code: LimitCode, message: string) => context.reportError(limitError(code, message));
      if (shape.depth > limits.maxDepth) refuse('QUERY_TOO_DEEP', `The query depth is ${shape.depth}; the limit is ${limits.maxDepth}`);
      if (shape.introspectionDepth > limits.maxIntrospectionDepth) {
        refuse('INTROSPECTION_TOO_DEEP', `The introspection query depth is ${shape.introspectionDepth}; the limit is ${limits.maxIntrospectionDepth}`);
      }
      if (shape.introspectionRepeats) refuse('INTROSPECTION_TOO_DEEP', 'An introspection list (fields, types, args, …) may appear only once along a path');
      if (shape.aliases > limits.maxAliases) refuse('TOO_MANY_ALIASES', `The operation uses ${shape.aliases} aliases; the limit is ${limits.maxAliases}`);
      if (shape.directives > limits.maxDirectives) refuse('TOO_MANY_DIRECTIVES', `The operation uses ${shape.directives} directives; the limit is ${limits.maxDirectives}`);
      if (shape.selections > limits.maxSelections) {
        refuse('QUERY_TOO_COMPLEX', `The operation selects ${shape.selections} fields once fragments are expanded; the limit is ${limits.maxSelections}`);
      }
      return false;
    },
  });
}

/** Assumed when a list's size is not asked for: Pothos' largest default page, a modest plain list. */
const DEFAULT_PAGE_SIZE = 100;
const DEFAULT_LIST_SIZE = 10;

/** `first` or `last` as this field will receive it (a literal, a variable or a default), if it has them. */
function requestedSize(field: GraphQLField<unknown, unknown>, node: FieldNode, variables: Record<string, unknown>): number | null {
  if (!field.args.some((arg) => arg.name === 'first' || arg.name === 'last')) return null;
  let args: Record<string, unknown>;
  try {
    args = getArgumentValues(field, node, variables);
  } catch {
    return DEFAULT_PAGE_SIZE; // invalid arguments: execution reports them
  }
  const size = [args['first'], args['last']].find((value) => typeof value === 'number');
  return typeof size === 'number' ? Math.max(0, size) : DEFAULT_PAGE_SIZE;
}

/**
 * An estimate of the work an operation asks for: every field counts once per parent object it is
 * resolved on, and a list multiplies what is below it by its size: a connection's `edges` and
 * `nodes` by the connection's `first`/`last` (variable values included; its default page when
 * absent), another list by {@link DEFAULT_LIST_SIZE}. Introspection counts 1 (its shape is bounded
 * by {@link operationShapeRule}). Validation has run: fragments are acyclic and selections bounded.
 */
export function operationCost(schema: GraphQLSchema, document: DocumentNode, operationName: string | null | undefined, variables: Record<string, unknown> = {}): number {
  const operation = getOperationAST(document, operationName);
  const root = operation ? schema.getRootType(operation.operation) : undefined;
  if (!operation || !root) return 0;
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);

  const costOf = (set: SelectionSetNode, parent: GraphQLNamedType | undefined, multiplier: number, pageSize: number | null): number => {
    let cost = 0;
    for (const selection of set.selections) {
      if (selection.kind === Kind.INLINE_FRAGMENT) {
        const type = selection.typeCondition ? schema.getType(selection.typeCondition.name.value) : parent;
        cost += costOf(selection.selectionSet, type, multiplier, pageSize);
        continue;
      }
      if (selection.kind === Kind.FRAGMENT_SPREAD) {
        const fragment = fragments.get(selection.name.value);
        if (fragment) cost += costOf(fragment.selectionSet, schema.getType(fragment.typeCondition.name.value), multiplier, pageSize);
        continue;
      }
      const name = selection.name.value;
      if (name === '__typename' || name === '__schema' || name === '__type') {
        cost += name === '__typename' ? multiplier : 1;
        continue;
      }
      const field = isObjectType(parent) || isInterfaceType(parent) ? parent.getFields()[name] : undefined;
      if (!field) continue;
      cost += multiplier;
      if (!selection.selectionSet) continue;
      const size = requestedSize(field, selection, variables);
      const child = getNamedType(field.type);
      cost += isListType(getNullableType(field.type))
        ? costOf(selection.selectionSet, child, multiplier * (size ?? pageSize ?? DEFAULT_LIST_SIZE), null)
        : costOf(selection.selectionSet, child, multiplier, size);
    }
    return cost;
  };
  return costOf(operation.selectionSet, root, 1, null);
}

/** QUERY_TOO_COMPLEX when {@link operationCost} is over `maxCost`, else null. */
export function costRefusal(
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName: string | null | undefined,
  variables: Record<string, unknown> | null | undefined,
  maxCost: number,
): GraphQLError | null {
  const cost = operationCost(schema, document, operationName, variables ?? {});
  if (cost <= maxCost) return null;
  return limitError('QUERY_TOO_COMPLEX', `The operation would cost ${Math.ceil(cost)} (fields times list sizes); the limit is ${maxCost}`);
}

/**
 * The limits as an envelop plugin, for HTTP and for WebSocket operations alike (graphql-ws goes
 * through `getEnveloped`): tokens when parsing, shape when validating, cost when executing or
 * subscribing. A refused operation never reaches the tenant transaction.
 */
export function useOperationLimits(limits: OperationLimits): Plugin {
  const refuseCostly = (args: ExecutionArgs, stop: (result: ExecutionResult) => void) => {
    const refusal = costRefusal(args.schema, args.document, args.operationName, args.variableValues, limits.maxCost);
    if (refusal) stop({ errors: [refusal] });
  };
  return {
    onParse({ params }) {
      const source = typeof params.source === 'string' ? params.source : params.source.body;
      assertTokenLimit(source, limits.maxTokens);
    },
    onValidate({ addValidationRule }) {
      addValidationRule(operationShapeRule(limits));
    },
    onExecute({ args, setResultAndStopExecution }) {
      refuseCostly(args, setResultAndStopExecution);
    },
    onSubscribe({ args, setResultAndStopExecution }) {
      refuseCostly(args, setResultAndStopExecution);
    },
  };
}
