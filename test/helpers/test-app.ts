import { Writable } from 'node:stream';
import { type INestApplication } from '@nestjs/common';
import { __resetOutOfContextForTests } from 'nestjs-pino/PinoLogger';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { createApp } from '../../src/app.factory';
import { type AppConfig, loadConfig } from '../../src/common/config';
import {
  SMALL_EMBEDDED_BUFFERS,
  createScratchDatabase,
  seedMigratedInMemoryDatabases,
} from './database';

export const ADMIN_EMAIL = 'admin@roomkey.test';
export const ADMIN_PASSWORD = 'admin-password-for-tests-0001';
export const ADMIN_TENANT = 'demo';
/** Fixed test keys, so several apps (and the CLI) on one database agree. */
export const TEST_AUDIT_KEYS = `audit-test-1:${Buffer.alloc(32, 7).toString('base64')}`;
export const TEST_MASTER_KEYS = `master-test-1:${Buffer.alloc(32, 9).toString('base64')}`;

export function basic(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`, 'utf8').toString('base64')}`;
}

export interface GqlResult<T = Record<string, unknown>> {
  status: number;
  body: {
    data?: T | null;
    errors?: Array<{ message: string; extensions?: { code?: string; field?: string } }>;
  };
  headers: Record<string, string>;
  text: string;
}

export interface GqlOptions {
  auth?: string;
  headers?: Record<string, string>;
}

/** A running Roomkey on a fresh database (in-memory PGlite, or a scratch PostgreSQL database). */
export interface TestApp {
  app: INestApplication;
  config: AppConfig;
  ds: DataSource;
  /** Every JSON log line written so far. */
  logs: string[];
  /** The first-start banner, if one was printed. */
  banner: string[];
  adminAuth: string;
  http(): ReturnType<typeof request>;
  gql<T = Record<string, unknown>>(
    query: string,
    variables?: Record<string, unknown>,
    opts?: GqlOptions,
  ): Promise<GqlResult<T>>;
  close(): Promise<void>;
}

export async function startTestApp(env: Record<string, string> = {}): Promise<TestApp> {
  // A caller that names its own database (a fault test's proxy) gets exactly that one.
  const scratch =
    process.env.DATABASE_URL && !env.DATABASE_URL
      ? await createScratchDatabase(process.env.DATABASE_URL)
      : null;
  const config = loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'info',
    ROOMKEY_DATA_DIR: 'memory://',
    ...SMALL_EMBEDDED_BUFFERS,
    ROOMKEY_BOOTSTRAP_ADMIN_EMAIL: ADMIN_EMAIL,
    ROOMKEY_BOOTSTRAP_ADMIN_PASSWORD: ADMIN_PASSWORD,
    ROOMKEY_BOOTSTRAP_TENANT: ADMIN_TENANT,
    ROOMKEY_AUDIT_KEYS: TEST_AUDIT_KEYS,
    ROOMKEY_MASTER_KEYS: TEST_MASTER_KEYS,
    // Argon2id at its cheapest (about 2,900 checks a run at 16 ms each otherwise); the specs of
    // hashing cost (auth-basic, the Argon2 queue, first-start's stored hash) keep the baseline.
    ...(env.NODE_ENV && env.NODE_ENV !== 'test' ? {} : { ROOMKEY_TEST_FAST_PASSWORD_HASH: 'true' }),
    ...(scratch ? { DATABASE_URL: scratch.url } : {}),
    ...env,
  });
  seedMigratedInMemoryDatabases();
  const logs: string[] = [];
  const banner: string[] = [];
  const logDestination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      logs.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      cb();
    },
  });
  // nestjs-pino keeps one logger per loaded module graph for lines logged outside a request:
  // the first app's. Several apps share a graph in one test file (test/helpers/case-files.ts), so
  // each new app gets its own, and its start-up lines reach its own `logs`.
  __resetOutOfContextForTests();
  let app: INestApplication;
  try {
    app = await createApp(config, { logDestination, bannerOut: (t) => banner.push(t) });
  } catch (err) {
    await scratch?.drop();
    throw err;
  }
  const server = app.getHttpServer() as Parameters<typeof request>[0];
  return {
    app,
    config,
    ds: app.get(DataSource),
    logs,
    banner,
    adminAuth: basic(ADMIN_EMAIL, ADMIN_PASSWORD),
    http: () => request(server),
    async gql<T>(
      query: string,
      variables?: Record<string, unknown>,
      opts: GqlOptions = {},
    ): Promise<GqlResult<T>> {
      const req = request(server).post('/graphql').set('content-type', 'application/json');
      if (opts.auth) req.set('authorization', opts.auth);
      for (const [k, v] of Object.entries(opts.headers ?? {})) req.set(k, v);
      const res = await req.send({ query, variables });
      return {
        status: res.status,
        body: res.body as GqlResult<T>['body'],
        headers: res.headers,
        text: res.text,
      };
    },
    async close() {
      await app.close();
      await scratch?.drop();
    },
  };
}

/** The `extensions.code` of the first error, or undefined. */
export function errorCode(r: {
  body: { errors?: Array<{ extensions?: { code?: string } }> };
}): string | undefined {
  return r.body.errors?.[0]?.extensions?.code;
}
