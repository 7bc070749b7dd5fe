import { getOperationAST, type ExecutionResult } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { SessionRunner } from '../db/tenant-session.js';
import type { GraphQLContext } from './context.js';

/** Carries a mutation's result out of the transaction it rolled back. */
class RollbackWithResult {
  constructor(readonly result: ExecutionResult) {}
}

/**
 * Runs each query or mutation in exactly one tenant transaction: every resolver's database work
 * shares it (not a transaction per query), and events it queued are delivered after commit.
 * A mutation that ends with an unexpected error is rolled back whole, so a client never sees
 * half of a mutation applied. A typed error result is data, yet its field's work is undone too:
 * the whole transaction when the field is alone, its savepoint otherwise (mutation-savepoints.ts).
 */
export function useTenantTransaction(runner: SessionRunner): Plugin<GraphQLContext> {
  return {
    onExecute({ setExecuteFn, executeFn }) {
      setExecuteFn(async (args) => {
        const context = args.contextValue as GraphQLContext;
        const isMutation = getOperationAST(args.document, args.operationName)?.operation === 'mutation';
        try {
          return await runner.run(context.scope, async (session) => {
            context.session = session;
            const result = (await executeFn(args)) as ExecutionResult;
            if (isMutation && (result.errors?.length || context.rollbackRequested)) throw new RollbackWithResult(result);
            return result;
          });
        } catch (error) {
          if (error instanceof RollbackWithResult) return error.result;
          throw error;
        }
      });
    },
  };
}
