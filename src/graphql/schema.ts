import { lexicographicSortSchema, printSchema, type GraphQLSchema } from 'graphql';
import { builder } from './builder.js';
import './scalars.js';
import './errors.js';
import { guardFieldArguments } from './argument-guard.js';
import { runMutationFieldsInSavepoints } from './mutation-savepoints.js';

let built: GraphQLSchema | undefined;

/**
 * The executable schema. Modules register their types and root fields when their schema files
 * are imported (the module composition imports them first); Pothos builds one schema per builder,
 * so the result is kept.
 */
export function buildSchema(): GraphQLSchema {
  built ??= runMutationFieldsInSavepoints(guardFieldArguments(builder.toSchema()));
  return built;
}

/** The SDL as committed in `schema.graphql`: sorted, so diffs show real changes only. */
export function printSchemaSdl(schema: GraphQLSchema): string {
  return `${printSchema(lexicographicSortSchema(schema))}\n`;
}
