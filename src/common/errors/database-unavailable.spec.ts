import { QueryFailedError } from 'typeorm';
import { describeDatabaseError, isDatabaseUnavailable } from './database-unavailable';
import { DomainException } from './domain.exception';
import { ErrorCode } from './error-code';
import { toClientError } from './to-client-error';

const withCode = (message: string, code: string): Error =>
  Object.assign(new Error(message), { code });
const wrapped = (driverError: Error): QueryFailedError =>
  new QueryFailedError('SELECT secret FROM t WHERE k = $1', ['hunter2-secret'], driverError);

describe('isDatabaseUnavailable', () => {
  it.each([
    ['a refused connection', withCode('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED')],
    ['a reset connection', withCode('read ECONNRESET', 'ECONNRESET')],
    ['a dropped connection', new Error('Connection terminated unexpectedly')],
    ['a connect timeout', new Error('Connection terminated due to connection timeout')],
    ['a silent server', new Error('Query read timeout')],
    ['a pool acquire timeout', new Error('timeout exceeded when trying to connect')],
    [
      'a statement timeout (57014)',
      withCode('canceling statement due to statement timeout', '57014'),
    ],
    ['a connection exception (08006)', withCode('connection failure', '08006')],
    ['an admin shutdown (57P01)', withCode('terminating connection', '57P01')],
    ['a server still starting (57P03)', withCode('the database system is starting up', '57P03')],
    ['too many connections (53300)', withCode('sorry, too many clients already', '53300')],
  ])('should recognise %s when it is raw or wrapped by TypeORM', (_label, err) => {
    expect(isDatabaseUnavailable(err)).toBe(true);
    expect(isDatabaseUnavailable(wrapped(err))).toBe(true);
    expect(isDatabaseUnavailable(new Error('outer', { cause: err }))).toBe(true);
  });

  it.each([
    ['a unique violation', withCode('duplicate key value', '23505')],
    ['a syntax error', withCode('syntax error at or near', '42601')],
    ['a plain bug', new TypeError("Cannot read properties of undefined (reading 'x')")],
    ['a domain error', DomainException.unauthenticated()],
    ['nothing', undefined],
  ])('should not treat %s as the database being unavailable', (_label, err) => {
    expect(isDatabaseUnavailable(err)).toBe(false);
    if (err instanceof Error) expect(isDatabaseUnavailable(wrapped(err))).toBe(false);
  });

  it('should stop when a cause chain loops', () => {
    const a = new Error('a') as Error & { cause?: unknown };
    const b = new Error('b', { cause: a });
    a.cause = b;
    expect(isDatabaseUnavailable(a)).toBe(false);
  });
});

describe('toClientError for database failures', () => {
  it('should answer SERVICE_UNAVAILABLE with a retry delay when the database is unreachable', () => {
    const e = toClientError(wrapped(new Error('Query read timeout')), true);
    expect(e.code).toBe(ErrorCode.SERVICE_UNAVAILABLE);
    expect(e.retryAfter).toBeGreaterThan(0);
    expect(e.message).not.toMatch(/read timeout|SELECT/);
  });
});

describe('describeDatabaseError', () => {
  it('should keep the code and driver message but never the query parameters when logging', () => {
    const d = describeDatabaseError(wrapped(withCode('read ECONNRESET', 'ECONNRESET')));
    expect(d).toEqual({ errorCode: 'ECONNRESET', message: 'read ECONNRESET' });
    expect(JSON.stringify(d)).not.toContain('hunter2');
  });
});
