import type { GraphQLScalarType, ValueNode } from 'graphql';
import { DateTimeResolver, JSONObjectResolver, JSONResolver } from 'graphql-scalars';
import { checkJsonBounds } from '../kernel/json.js';
import { builder } from './builder.js';
import { BadUserInputError } from './error-masking.js';

/**
 * Every `JSON` / `JSONObject` input, as a variable or a literal, of every field of every module, is
 * checked against the platform's JSON bounds (kernel/json.ts: depth, then size, iteratively) when
 * GraphQL coerces it, before any resolver, service or zod schema walks it. A module's own limits
 * (twin depth, command params) apply afterwards, as typed results.
 */
function bounded<T>(scalar: GraphQLScalarType) {
  const within = (value: unknown): T => {
    const issue = checkJsonBounds(value);
    if (issue) throw new BadUserInputError(`the ${scalar.name} value is ${issue.message.replace(/^is /, '')}`, [issue]);
    return value as T;
  };
  return {
    parseValue: (value: unknown) => within(scalar.parseValue(value)),
    parseLiteral: (ast: ValueNode, variables?: { [key: string]: unknown } | null) => within(scalar.parseLiteral(ast, variables)),
  };
}

builder.addScalarType('DateTime', DateTimeResolver);
builder.addScalarType('JSON', JSONResolver, bounded(JSONResolver));
builder.addScalarType('JSONObject', JSONObjectResolver, bounded(JSONObjectResolver));
