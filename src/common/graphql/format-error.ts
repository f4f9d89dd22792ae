import { unwrapResolverError } from '@apollo/server/errors';
import { HttpException } from '@nestjs/common';
import { type GraphQLFormattedError } from 'graphql';
import { DomainException, ErrorCode, isDatabaseUnavailable, toClientError } from '../errors';

/** Apollo's own codes for problems with the request itself: safe to describe to the caller. */
const REQUEST_ERROR_CODES = new Set([
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_USER_INPUT',
  'BAD_REQUEST',
  'OPERATION_RESOLUTION_FAILURE',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_SUPPORTED',
]);

export interface FormatErrorOptions {
  development: boolean;
  /** Without introspection, "Did you mean …?" hints would leak the schema. */
  hideSuggestions: boolean;
  onInternalError: (err: unknown) => void;
  /** A raw database failure answered as SERVICE_UNAVAILABLE (log it without the error object). */
  onDatabaseUnavailable?: (err: unknown) => void;
}

/**
 * The single GraphQL error formatter: every error leaves with a code from the closed set, a safe
 * message, and nothing else (no stack trace, no `originalError`, no exception internals).
 */
export function formatGraphQLError(
  formatted: GraphQLFormattedError,
  error: unknown,
  opts: FormatErrorOptions,
): GraphQLFormattedError {
  const original = unwrapResolverError(error);
  const apolloCode = formatted.extensions?.code;
  const thrownByUs = original instanceof DomainException || original instanceof HttpException;
  const isRequestError =
    !thrownByUs && typeof apolloCode === 'string' && REQUEST_ERROR_CODES.has(apolloCode);

  let code: ErrorCode;
  let message: string;
  let field: string | undefined;
  let retryAfter: number | undefined;
  if (isRequestError) {
    code = ErrorCode.BAD_USER_INPUT;
    // Never echo submitted values: a rejected input object can hold a secret.
    message = formatted.message.replace(
      / got invalid value [\s\S]*?(?=( at "[^"]*")?; )/,
      ' got an invalid value',
    );
    if (opts.hideSuggestions) message = message.replace(/ Did you mean .*\?$/, '');
    // The parser's token limit (graphql-js words it "more that N tokens"): say which limit, like
    // the other query limits do.
    message = message.replace(
      /^Syntax Error: Document contains more tha[nt] (\d+) tokens\. Parsing aborted\.$/,
      'Token limit of $1 exceeded.',
    );
  } else {
    const client = toClientError(original, opts.development);
    ({ code, message, field, retryAfter } = client);
    if (code === ErrorCode.INTERNAL_SERVER_ERROR) {
      opts.onInternalError(original);
      if (client.debug) message = `${message}: ${client.debug}`;
    } else if (isDatabaseUnavailable(original)) {
      opts.onDatabaseUnavailable?.(original);
    }
  }
  return {
    message,
    ...(formatted.locations ? { locations: formatted.locations } : {}),
    ...(formatted.path ? { path: formatted.path } : {}),
    extensions: {
      code,
      ...(field ? { field } : {}),
      ...(retryAfter !== undefined ? { retryAfter } : {}),
    },
  };
}
