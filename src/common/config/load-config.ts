import * as path from 'node:path';
import { z } from 'zod';
import { type AppConfig, type KeyEntry } from './config.types';

/** A configuration error lists every bad variable at once, so one restart fixes them all. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

const PLACEHOLDERS =
  /^(change[-_ ]?me.*|changeit|placeholder|secret|password|example|todo|xxx+|<.*>|\$\{.*\})$/i;

const int = (def: number, min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, 'must be a whole number')
    .optional()
    .transform((v) => (v === undefined ? def : Number(v)))
    .pipe(z.number().int().min(min).max(max));

/** `kid:base64key[,kid:base64key…]`, newest first; every key exactly 32 bytes. */
const keyList = z
  .string()
  .optional()
  .transform((raw, ctx): KeyEntry[] | undefined => {
    if (raw === undefined || raw.trim() === '') return undefined;
    const out: KeyEntry[] = [];
    for (const part of raw.split(',')) {
      const [id, b64, extra] = part.trim().split(':');
      if (!id || !b64 || extra !== undefined || !/^[A-Za-z0-9_-]{1,32}$/.test(id)) {
        ctx.addIssue({
          code: 'custom',
          message: 'expected kid:base64key entries separated by commas',
        });
        return z.NEVER;
      }
      if (PLACEHOLDERS.test(b64)) {
        ctx.addIssue({ code: 'custom', message: `key "${id}" is a placeholder` });
        return z.NEVER;
      }
      const key = Buffer.from(b64, 'base64');
      if (key.length !== 32) {
        ctx.addIssue({ code: 'custom', message: `key "${id}" must decode to 32 bytes` });
        return z.NEVER;
      }
      if (out.some((k) => k.id === id)) {
        ctx.addIssue({ code: 'custom', message: `key id "${id}" appears twice` });
        return z.NEVER;
      }
      out.push({ id, key });
    }
    return out;
  });

const SLUG = /^[a-z0-9](?:[a-z0-9-]{1,38}[a-z0-9])$/;

const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  HOST: z.string().min(1).default('127.0.0.1'),
  PORT: int(3000, 0, 65535),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).optional(),
  ROOMKEY_TRUST_PROXY: z
    .string()
    .optional()
    .transform((v): boolean | number | string[] => {
      if (v === undefined || v === '' || v === 'false') return false;
      if (v === 'true') return true;
      if (/^\d+$/.test(v)) return Number(v);
      return v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
    }),
  ROOMKEY_GRAPHQL_IDE: z.enum(['true', 'false']).optional(),
  ROOMKEY_GRAPHQL_INTROSPECTION: z.enum(['true', 'false']).optional(),
  ROOMKEY_BODY_LIMIT_BYTES: int(1_048_576, 1024, 50 * 1_048_576),
  ROOMKEY_SHUTDOWN_TIMEOUT_MS: int(10_000, 0, 600_000),
  DATABASE_URL: z
    .string()
    .optional()
    .refine(
      (v) => v === undefined || v === '' || /^postgres(ql)?:\/\//.test(v),
      'must be a postgres:// URL',
    ),
  ROOMKEY_DATA_DIR: z.string().min(1).default('./.data'),
  ROOMKEY_DB_POOL_SIZE: int(10, 1, 200),
  ROOMKEY_MASTER_KEYS: keyList,
  ROOMKEY_AUDIT_KEYS: keyList,
  ROOMKEY_PASSWORD_HASH_CONCURRENCY: int(4, 1, 64),
  ROOMKEY_BOOTSTRAP_ADMIN_EMAIL: z.email().default('admin@roomkey.local'),
  ROOMKEY_BOOTSTRAP_ADMIN_PASSWORD: z
    .string()
    .optional()
    .refine(
      (v) => v === undefined || v === '' || (v.length >= 12 && v.length <= 1024),
      'must be 12 to 1024 characters',
    ),
  ROOMKEY_BOOTSTRAP_TENANT: z.string().regex(SLUG, 'must be a valid tenant slug').default('demo'),
});

export type RawEnv = Record<string, string | undefined>;

/**
 * Validates the environment and builds the typed configuration. Throws one `ConfigError` naming every
 * bad variable. In production, refuses to start without real secrets.
 */
export function loadConfig(env: RawEnv): AppConfig {
  // Empty strings count as unset, as in most .env tooling.
  const cleaned = Object.fromEntries(
    Object.entries(env).filter(([, v]) => v !== undefined && v !== ''),
  );
  const parsed = envSchema.safeParse(cleaned);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((i) => `${i.path.join('.') || '(env)'}: ${i.message}`),
    );
  }
  const e = parsed.data;
  const problems: string[] = [];
  const production = e.NODE_ENV === 'production';
  if (production) {
    if (!e.ROOMKEY_MASTER_KEYS) problems.push('ROOMKEY_MASTER_KEYS: required in production');
    if (!e.ROOMKEY_AUDIT_KEYS) problems.push('ROOMKEY_AUDIT_KEYS: required in production');
    const pw = e.ROOMKEY_BOOTSTRAP_ADMIN_PASSWORD;
    if (pw !== undefined && PLACEHOLDERS.test(pw)) {
      problems.push('ROOMKEY_BOOTSTRAP_ADMIN_PASSWORD: is a placeholder');
    }
    if (e.DATABASE_URL && /:(change[-_]?me|password|secret|placeholder)@/i.test(e.DATABASE_URL)) {
      problems.push('DATABASE_URL: contains a placeholder password');
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);

  const inMemory = e.ROOMKEY_DATA_DIR === 'memory://';
  const isTest = e.NODE_ENV === 'test';
  return {
    app: {
      env: e.NODE_ENV,
      host: e.HOST,
      port: e.PORT,
      trustProxy: e.ROOMKEY_TRUST_PROXY,
      logLevel: e.LOG_LEVEL ?? (isTest ? 'warn' : 'info'),
      graphqlIde: e.ROOMKEY_GRAPHQL_IDE ? e.ROOMKEY_GRAPHQL_IDE === 'true' : !production,
      introspection: e.ROOMKEY_GRAPHQL_INTROSPECTION
        ? e.ROOMKEY_GRAPHQL_INTROSPECTION === 'true'
        : !production,
      bodyLimitBytes: e.ROOMKEY_BODY_LIMIT_BYTES,
      shutdownTimeoutMs: e.ROOMKEY_SHUTDOWN_TIMEOUT_MS,
    },
    database: {
      url: e.DATABASE_URL,
      dataDir: inMemory ? e.ROOMKEY_DATA_DIR : path.resolve(e.ROOMKEY_DATA_DIR),
      inMemory,
      poolSize: e.ROOMKEY_DB_POOL_SIZE,
    },
    security: {
      masterKeys: e.ROOMKEY_MASTER_KEYS,
      auditKeys: e.ROOMKEY_AUDIT_KEYS,
      passwordHashConcurrency: e.ROOMKEY_PASSWORD_HASH_CONCURRENCY,
    },
    bootstrap: {
      adminEmail: e.ROOMKEY_BOOTSTRAP_ADMIN_EMAIL.toLowerCase(),
      adminPassword: e.ROOMKEY_BOOTSTRAP_ADMIN_PASSWORD,
      tenantSlug: e.ROOMKEY_BOOTSTRAP_TENANT,
    },
  };
}

/** The process environment; the one place outside tests that reads it. */
export function processEnv(): RawEnv {
  return process.env;
}
