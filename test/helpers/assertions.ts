import { randomBytes } from 'node:crypto';
import { ErrorCode } from '../../src/common/errors/error-code';
import { type Response } from 'supertest';
import { type GqlResult, type TestApp } from './test-app';

/** The closed set of `extensions.code` values from docs/product.md#error-codes. */
export const CLOSED_CODES: string[] = Object.values(ErrorCode);
const LEAKY_KEYS = ['stacktrace', 'originalError', 'exception'];

function keysDeep(value: unknown, out: string[] = []): string[] {
  if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      out.push(k);
      keysDeep(v, out);
    }
  }
  return out;
}

/** Asserts a failed operation: every error carries `code`, only closed-set codes, no internals. */
export function expectError<T>(r: GqlResult<T>, code: string): void {
  const errors = r.body.errors ?? [];
  expect(errors.length).toBeGreaterThan(0);
  expect(errors[0].extensions?.code).toBe(code);
  expect(errors.map((e) => e.extensions?.code)).toEqual(errors.map(() => code));
  for (const e of errors) {
    expect(CLOSED_CODES).toContain(e.extensions?.code);
    expect(Object.keys(e.extensions ?? {}).filter((k) => k !== 'code' && k !== 'field')).toEqual(
      [],
    );
    expect(keysDeep(e.extensions).filter((k) => LEAKY_KEYS.includes(k))).toEqual([]);
  }
  expect(r.text).not.toContain('node_modules');
  expect(r.body.data ?? null).toBeNull();
}

export interface Counts {
  tenant: number;
  app_user: number;
  membership: number;
  api_key: number;
}

export async function counts(t: TestApp): Promise<Counts> {
  const [row] = await t.ds.query<Counts[]>(
    `SELECT (SELECT count(*) FROM tenant)::int AS tenant,
            (SELECT count(*) FROM app_user)::int AS app_user,
            (SELECT count(*) FROM membership)::int AS membership,
            (SELECT count(*) FROM api_key)::int AS api_key`,
  );
  return row;
}

export const uniq = (): string => randomBytes(4).toString('hex');

/**
 * What must be the same in two answers to the same request, whoever answered it (a lane or the
 * general path): status, body without its request ids (they differ by design), and the headers
 * that carry meaning. A body that is not JSON is compared as text.
 */
export function answerShape(r: Response): unknown {
  const scrub = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(scrub);
    if (v && typeof v === 'object')
      return Object.fromEntries(
        Object.entries(v as Record<string, unknown>)
          .filter(([k]) => k !== 'requestId')
          .map(([k, x]) => [k, scrub(x)]),
      );
    return v;
  };
  let body: unknown = r.text;
  try {
    body = scrub(JSON.parse(r.text));
  } catch {
    // not JSON: compared as text
  }
  return {
    status: r.status,
    body,
    type: r.headers['content-type'],
    code: r.headers['x-roomkey-error-code'],
    retryAfter: r.headers['retry-after'],
    cacheControl: r.headers['cache-control'],
  };
}
