import { stdSerializers } from 'pino';
import { QueryFailedError } from 'typeorm';
import { serializeError } from './logging.module';

const CANARY = 'canary-7d1f0c2e';

/** What pino-http hands the `err` serializer: the standard serializer's plain copy. */
const asLogged = (err: Error): unknown => serializeError(stdSerializers.err(err));

describe('serializeError', () => {
  it('should keep only the SQLSTATE, a query hash and stack frames when a TypeORM query fails', () => {
    const driverError = Object.assign(
      new Error(`invalid input syntax for type uuid: "${CANARY}"`),
      {
        code: '22P02',
        severity: 'ERROR',
        detail: CANARY,
        where: `unnamed portal parameter $1 = '${CANARY}'`,
      },
    );
    const err = new QueryFailedError('SELECT * FROM t WHERE id = $1', [CANARY], driverError);
    const out = asLogged(err);
    expect(JSON.stringify(out)).not.toContain(CANARY);
    expect(out).toEqual({
      type: 'QueryFailedError',
      message: 'database query failed (SQLSTATE 22P02)',
      sqlState: '22P02',
      queryHash: expect.stringMatching(/^[0-9a-f]{16}$/) as unknown,
      stack: expect.stringMatching(/^QueryFailedError: SQLSTATE 22P02\n\s+at /) as unknown,
    });
  });

  it('should drop the message of a raw driver error when it carries a SQLSTATE and a severity', () => {
    const err = Object.assign(new Error(`duplicate key: ${CANARY}`), {
      code: '23505',
      severity: 'ERROR',
    });
    const out = asLogged(err);
    expect(JSON.stringify(out)).not.toContain(CANARY);
    expect(out).toMatchObject({ sqlState: '23505' });
  });

  it('should keep type, message and stack when the error is not a database error', () => {
    const out = asLogged(new TypeError('plain failure')) as Record<string, unknown>;
    expect(out).toMatchObject({ type: 'TypeError', message: 'plain failure' });
    expect(Object.keys(out).sort()).toEqual(['code', 'message', 'stack', 'type']);
  });
});
