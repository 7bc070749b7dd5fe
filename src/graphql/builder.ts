import SchemaBuilder from '@pothos/core';
import ErrorsPlugin from '@pothos/plugin-errors';
import PrismaPlugin from '@pothos/plugin-prisma';
import RelayPlugin from '@pothos/plugin-relay';
import type { PrismaClient } from '../generated/prisma/client.js';
import type PrismaTypes from '../generated/pothos-prisma-types.js';
import { getDatamodel } from '../generated/pothos-prisma-types.js';
import type { JsonValue } from '../kernel/json.js';
import type { GraphQLContext } from './context.js';

type UnusedQueryReporter = ((where: string) => void) | null;
let reportUnusedQuery: UnusedQueryReporter = null;

/**
 * Where a resolver that did not spread Pothos' `query` into its Prisma call (a missed nested
 * selection, so an N+1) is reported; set from the configuration when the server is built (off in
 * production). The builder is created at import time, before any configuration exists.
 */
export function setUnusedQueryReporter(reporter: UnusedQueryReporter): void {
  reportUnusedQuery = reporter;
}

/** The one schema builder: plugins and context type are declared here and nowhere else. */
export const builder = new SchemaBuilder<{
  Context: GraphQLContext;
  PrismaTypes: PrismaTypes;
  DefaultFieldNullability: false;
  Scalars: {
    DateTime: { Input: Date; Output: Date | string };
    JSON: { Input: JsonValue; Output: unknown };
    JSONObject: { Input: { [key: string]: JsonValue }; Output: unknown };
  };
}>({
  defaultFieldNullability: false,
  // Errors before Prisma, as the Pothos docs require, so error unions wrap prisma fields too.
  plugins: [ErrorsPlugin, PrismaPlugin, RelayPlugin],
  relay: {
    clientMutationId: 'omit',
    cursorType: 'String',
    nodeQueryOptions: { nullable: true },
    nodesQueryOptions: false,
  },
  errors: { defaultTypes: [] },
  prisma: {
    // Resolvers only ever reach the database through the operation's tenant transaction.
    client: (ctx) => ctx.session.db as unknown as PrismaClient,
    dmmf: getDatamodel(),
    exposeDescriptions: false,
    filterConnectionTotalCount: true,
    onUnusedQuery: (info) => reportUnusedQuery?.(`${info.parentType.name}.${info.fieldName}`),
  },
});

builder.queryType({});
builder.mutationType({});
builder.subscriptionType({});
