import {
  GraphQLError,
  Kind,
  OperationTypeNode,
  defaultFieldResolver,
  getArgumentValues,
  getOperationAST,
  getVariableValues,
  isObjectType,
  type ExecutionArgs,
  type GraphQLFieldResolver,
  type GraphQLSchema,
} from 'graphql';
import { structuralIssues } from '../kernel/validation.js';
import { BadUserInputError } from './error-masking.js';

/** Throws `BAD_USER_INPUT` for arguments no field may receive (see {@link structuralIssues}). */
function assertStorableArguments(args: Record<string, unknown>): void {
  const issues = structuralIssues(args);
  if (issues.length === 0) return;
  const first = issues[0]!;
  throw new BadUserInputError(`Invalid argument ${first.path.join('.')}: ${first.message}`, issues);
}

/**
 * Every field with arguments, of every type (queries, nested fields, subscriptions), refuses a NUL
 * character, a `__proto__` key or absurd nesting anywhere in its arguments before it resolves: a
 * NUL in `device(deviceId:)` would otherwise reach PostgreSQL, which cannot store it, and surface
 * as a masked database error. Mutation fields are left to their services' `parseInput`, which
 * refuses the same things as a typed `ValidationError` result, with the path.
 */
export function guardFieldArguments(schema: GraphQLSchema): GraphQLSchema {
  const mutation = schema.getMutationType();
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type === mutation || type.name.startsWith('__')) continue;
    for (const field of Object.values(type.getFields())) {
      if (field.args.length === 0) continue;
      const resolve: GraphQLFieldResolver<unknown, unknown> = field.resolve ?? defaultFieldResolver;
      field.resolve = (root, args: Record<string, unknown>, context, info) => {
        assertStorableArguments(args);
        return resolve(root, args, context, info);
      };
      const subscribe = field.subscribe;
      if (subscribe) {
        field.subscribe = (root, args: Record<string, unknown>, context, info) => {
          assertStorableArguments(args);
          return subscribe(root, args, context, info);
        };
      }
    }
  }
  return schema;
}

/**
 * The refusals a subscription's root fields would answer with before listening (variables that do
 * not coerce, arguments {@link guardFieldArguments} refuses), found up front: graphql-ws can only
 * send an `error` message for that operation while it is being subscribed; once `subscribe` has
 * run, a refusal would arrive as a `next` with errors followed by `complete`.
 */
export function subscriptionArgumentErrors(args: ExecutionArgs): GraphQLError[] {
  const operation = getOperationAST(args.document, args.operationName);
  const root = args.schema.getSubscriptionType();
  if (operation?.operation !== OperationTypeNode.SUBSCRIPTION || !root) return [];
  const coercion = getVariableValues(args.schema, operation.variableDefinitions ?? [], args.variableValues ?? {}, { maxErrors: 10 });
  if (coercion.errors) return coercion.errors.map((error) => new GraphQLError(error.message, { nodes: error.nodes, extensions: { code: 'BAD_USER_INPUT' } }));
  for (const selection of operation.selectionSet.selections) {
    const field = selection.kind === Kind.FIELD ? root.getFields()[selection.name.value] : undefined;
    if (!field || selection.kind !== Kind.FIELD) continue;
    try {
      assertStorableArguments(getArgumentValues(field, selection, coercion.coerced));
    } catch (error) {
      if (!(error instanceof BadUserInputError)) throw error;
      return [new GraphQLError(error.message, { nodes: selection, path: [selection.alias?.value ?? selection.name.value], extensions: { code: 'BAD_USER_INPUT', issues: error.issues } })];
    }
  }
  return [];
}
