import { defaultFieldResolver, Kind, type GraphQLResolveInfo, type GraphQLSchema } from 'graphql';
import { DomainError } from '../kernel/errors.js';
import type { GraphQLContext } from './context.js';

/** Carries a typed error result out of the savepoint it rolled back. */
class TypedErrorResult {
  constructor(readonly result: DomainError) {}
}

/**
 * Whether a field's result is a typed error. The errors plugin hands errors back wrapped in a
 * proxy whose prototype is not the error's; it forwards `constructor`, which tells the class.
 */
function isTypedError(result: unknown): boolean {
  if (result instanceof DomainError) return true;
  const constructor = typeof result === 'object' && result !== null ? (result as { constructor?: unknown }).constructor : undefined;
  return typeof constructor === 'function' && (constructor === DomainError || constructor.prototype instanceof DomainError);
}

/** One root field and no fragments at the top: the whole transaction is that field's. */
function isSoleRootField(info: GraphQLResolveInfo): boolean {
  const selections = info.operation.selectionSet.selections;
  return selections.length === 1 && selections[0]!.kind === Kind.FIELD;
}

/**
 * A mutation field that answers with a typed error (a `DomainError` as its result) leaves nothing
 * of its own work behind: not its statements, not its events. A field alone in its document marks
 * the operation, whose transaction is then rolled back whole (no extra round trip); a field among
 * others runs in a savepoint, so a constraint violation it turned into `AlreadyExists` neither
 * aborts the transaction nor undoes the other fields' work.
 */
export function runMutationFieldsInSavepoints(schema: GraphQLSchema): GraphQLSchema {
  const mutation = schema.getMutationType();
  for (const field of Object.values(mutation?.getFields() ?? {})) {
    const resolve = field.resolve ?? defaultFieldResolver;
    field.resolve = async (root, args, context: GraphQLContext, info) => {
      if (isSoleRootField(info)) {
        const result: unknown = await resolve(root, args, context, info);
        if (isTypedError(result)) context.rollbackRequested = true;
        return result;
      }
      try {
        return await context.session.savepoint(async () => {
          const result: unknown = await resolve(root, args, context, info);
          if (isTypedError(result)) throw new TypedErrorResult(result as DomainError);
          return result;
        });
      } catch (error) {
        if (error instanceof TypedErrorResult) return error.result;
        throw error;
      }
    };
  }
  return schema;
}
