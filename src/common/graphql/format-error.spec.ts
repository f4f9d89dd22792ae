import { GraphQLError, parse } from 'graphql';
import { type FormatErrorOptions, formatGraphQLError } from './format-error';

const OPTS: FormatErrorOptions = {
  development: false,
  hideSuggestions: false,
  onInternalError: () => undefined,
};

function parseError(query: string, maxTokens: number): GraphQLError {
  try {
    parse(query, { maxTokens });
  } catch (err) {
    if (err instanceof GraphQLError) return err;
    throw err;
  }
  throw new Error('expected the parser to refuse the document');
}

describe('formatGraphQLError with query limits', () => {
  it('should name the token limit when the parser stops at maxTokens', () => {
    const err = parseError('{ me { role role role } }', 4);
    const out = formatGraphQLError(
      {
        message: err.message,
        locations: err.locations,
        extensions: { code: 'GRAPHQL_PARSE_FAILED' },
      },
      err,
      OPTS,
    );
    expect(out.message).toBe('Token limit of 4 exceeded.');
    expect(out.extensions).toEqual({ code: 'BAD_USER_INPUT' });
  });

  it('should keep other syntax errors as they are when the document is malformed', () => {
    const err = parseError('{ me { role ', 100);
    const out = formatGraphQLError(
      { message: err.message, extensions: { code: 'GRAPHQL_PARSE_FAILED' } },
      err,
      OPTS,
    );
    expect(out.message).toMatch(/^Syntax Error: Expected Name, found <EOF>\.$/);
    expect(out.extensions).toEqual({ code: 'BAD_USER_INPUT' });
  });

  it('should answer BAD_USER_INPUT when a limit rule refuses the document during validation', () => {
    const err = new GraphQLError('Aliases limit of 15 exceeded, found 16.', {
      extensions: { code: 'BAD_USER_INPUT' },
    });
    for (const code of ['GRAPHQL_VALIDATION_FAILED', 'BAD_USER_INPUT']) {
      const out = formatGraphQLError({ message: err.message, extensions: { code } }, err, OPTS);
      expect(out).toEqual({
        message: 'Aliases limit of 15 exceeded, found 16.',
        extensions: { code: 'BAD_USER_INPUT' },
      });
    }
  });
});
