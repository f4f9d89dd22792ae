import { type ApolloServerPlugin } from '@apollo/server';
import { Kind, type OperationDefinitionNode } from 'graphql';
import { noteGraphqlOperation, operationNameOf } from '../logging/graphql-operation';
import { type MetricsService } from './metrics.service';

/** Root field names of an operation (bounded by the schema, unlike client-chosen operation names). */
function rootFields(op: OperationDefinitionNode | undefined | null): string[] {
  if (!op) return [];
  return op.selectionSet.selections.flatMap((s) => (s.kind === Kind.FIELD ? [s.name.value] : []));
}

export function graphqlMetricsPlugin(metrics: MetricsService): ApolloServerPlugin {
  return {
    requestDidStart() {
      const started = process.hrtime.bigint();
      return Promise.resolve({
        willSendResponse(rc) {
          const op = rc.operation;
          const type = op?.operation ?? 'invalid';
          const fields = rootFields(op);
          const outcome = rc.errors?.length ? 'error' : 'success';
          for (const field of fields.length ? fields : ['invalid']) {
            metrics.graphqlOperations.inc({ type, field, outcome });
          }
          const seconds = Number(process.hrtime.bigint() - started) / 1e9;
          metrics.graphqlDuration.observe({ type, field: fields[0] ?? 'invalid' }, seconds);
          // The access log names the operation (a log field, never a metric label).
          const req = (rc.contextValue as { req?: unknown } | undefined)?.req;
          if (req && typeof req === 'object') {
            const operationName = operationNameOf(op?.name?.value ?? rc.request.operationName);
            noteGraphqlOperation(req, {
              operation: operationName ?? fields[0] ?? 'invalid',
              ...(operationName !== undefined ? { operationName } : {}),
              type,
              ...(fields[0] !== undefined ? { rootField: fields[0] } : {}),
            });
          }
          return Promise.resolve();
        },
      });
    },
  };
}
