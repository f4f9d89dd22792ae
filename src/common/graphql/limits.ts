import { ApolloArmor } from '@escape.tech/graphql-armor';
import {
  GraphQLError,
  type ParseOptions,
  type ValidationContext,
  type ValidationRule,
} from 'graphql';
import { type GraphqlSection } from '../config';
import { costLimitRule } from './cost-limit';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from './pagination';

/**
 * Own cost of fields that are expensive whatever they select. `verifyAuditLog` re-computes the
 * whole tenant chain (a handful in one request must be refused); `auditEvents` filters the log.
 */
export const GRAPHQL_FIELD_COSTS: Readonly<Record<string, number>> = {
  'Query.verifyAuditLog': 8000,
  'Query.auditEvents': 200,
};

/** armor reports with a "Syntax Error:" prefix; these are limits, so say just which one. */
function report(ctx: ValidationContext | null, error: GraphQLError): void {
  ctx?.reportError(
    new GraphQLError(error.message.replace(/^Syntax Error: /, ''), {
      extensions: { code: 'BAD_USER_INPUT' },
    }),
  );
}

export interface GraphqlLimits {
  /** Passed to Apollo's own `parse`: past `maxTokens` the parser stops, the rest is never read. */
  parseOptions: ParseOptions;
  /** Run with graphql-js's specified rules, before execution. */
  validationRules: ValidationRule[];
}

/**
 * Depth, alias, directive and cost limits as validation rules, and the token limit on the parser.
 * A refused request is answered like any validation error (HTTP 400, `BAD_USER_INPUT` after the
 * formatter) and no resolver runs. Applies in every environment.
 */
export function graphqlLimits(limits: GraphqlSection): GraphqlLimits {
  const common = { exposeLimits: true, propagateOnRejection: false, onReject: [report] };
  const armor = new ApolloArmor({
    maxDepth: {
      ...common,
      n: limits.maxDepth,
      // Fragments are not a level of the response; GraphiQL's own introspection query (deep
      // `ofType` chains under `__schema`) is exempt and stays governed by the introspection switch.
      flattenFragments: true,
      ignoreIntrospection: true,
    },
    maxAliases: { ...common, n: limits.maxAliases },
    maxDirectives: { ...common, n: limits.maxDirectives },
    // Replaced: armor's cost ignores per-field weights and our page-size clamp (see cost-limit.ts).
    costLimit: { enabled: false },
    // Replaced by the parser's own `maxTokens` (armor's Apollo plugin parses every document twice).
    maxTokens: { enabled: false },
    // The error formatter already drops "Did you mean …?" when introspection is off.
    blockFieldSuggestion: { enabled: false },
  }).protect();
  return {
    parseOptions: { maxTokens: limits.maxTokens },
    validationRules: [
      ...armor.validationRules,
      costLimitRule({
        maxCost: limits.maxCost,
        fieldCosts: GRAPHQL_FIELD_COSTS,
        defaultListSize: DEFAULT_PAGE_SIZE,
        maxListSize: MAX_PAGE_SIZE,
      }),
    ],
  };
}
