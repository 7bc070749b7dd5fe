import { getOperationAST } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Metrics } from '../http/metrics.js';

/** Counts and times every executed operation, labelled by type and whether it returned errors. */
export function useOperationMetrics(metrics: Metrics): Plugin {
  return {
    onExecute({ args }) {
      const type = getOperationAST(args.document, args.operationName)?.operation ?? 'unknown';
      const stop = metrics.graphqlDuration.startTimer({ type });
      return {
        onExecuteDone({ result }) {
          stop();
          const failed = 'errors' in result && Array.isArray(result.errors) && result.errors.length > 0;
          metrics.graphqlOperations.inc({ type, outcome: failed ? 'error' : 'ok' });
        },
      };
    },
    onSubscribe() {
      metrics.graphqlOperations.inc({ type: 'subscription', outcome: 'ok' });
    },
  };
}
