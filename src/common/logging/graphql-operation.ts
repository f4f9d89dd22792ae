/**
 * The GraphQL operation a request ran, for its access log line: set by the GraphQL metrics
 * plugin once the answer is ready, read by pino-http's `customProps` (general path) and by
 * `laneAnswered` (the GraphQL lane).
 */
export interface GraphqlOperationLog {
  /** The operation's name when it has one, else its first root field (`invalid`: not parsed). */
  operation: string;
  /** The client's operation name, when given (a GraphQL name, at most 100 characters). */
  operationName?: string;
  /** `query`, `mutation`, `subscription`, or `invalid` when the document did not parse. */
  type: string;
  /** The first root field, if any. */
  rootField?: string;
}

const OPERATION = Symbol('roomkey.graphqlOperation');
/** The GraphQL `Name` grammar: anything else is not an operation name and is not logged. */
const NAME = /^[_A-Za-z][_0-9A-Za-z]{0,99}$/;

/** A client-given operation name, if it is one (never logs arbitrary client text). */
export function operationNameOf(value: unknown): string | undefined {
  return typeof value === 'string' && NAME.test(value) ? value : undefined;
}

export function noteGraphqlOperation(req: object, op: GraphqlOperationLog): void {
  (req as Record<symbol, unknown>)[OPERATION] = op;
}

export function graphqlOperationOf(req: object): GraphqlOperationLog | undefined {
  return (req as Record<symbol, GraphqlOperationLog | undefined>)[OPERATION];
}
