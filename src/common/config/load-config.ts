import * as path from 'node:path';
import proxyAddr from 'proxy-addr';
import { z } from 'zod';
import { missingIdePackages } from '../graphql/graphql-ide-assets';
import { type AppConfig, type KeyEntry } from './config.types';

/** A configuration error lists every bad variable at once, so one restart fixes them all. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

const compileTrust = (list: string[]): unknown => proxyAddr.compile(list);

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
    .transform((v, ctx): boolean | number | string[] => {
      if (v === undefined || v === '' || v === 'false') return false;
      if (v === 'true') return true;
      if (/^\d+$/.test(v)) return Number(v);
      const list = v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      try {
        compileTrust(list); // Express's own parser: refuse here what it would refuse at startup
      } catch (err) {
        ctx.addIssue({
          code: 'custom',
          message: `not a trusted-proxy list: ${(err as Error).message}`,
        });
        return z.NEVER;
      }
      return list;
    }),
  ROOMKEY_GRAPHQL_IDE: z.enum(['true', 'false']).optional(),
  ROOMKEY_GRAPHQL_INTROSPECTION: z.enum(['true', 'false']).optional(),
  ROOMKEY_BODY_LIMIT_BYTES: int(1_048_576, 1024, 50 * 1_048_576),
  ROOMKEY_SHUTDOWN_TIMEOUT_MS: int(10_000, 0, 600_000),
  ROOMKEY_GRAPHQL_MAX_DEPTH: int(7, 1, 100),
  ROOMKEY_GRAPHQL_MAX_ALIASES: int(15, 0, 1000),
  ROOMKEY_GRAPHQL_MAX_COST: int(20_000, 1, 10_000_000),
  ROOMKEY_GRAPHQL_MAX_TOKENS: int(1000, 100, 1_000_000),
  ROOMKEY_GRAPHQL_MAX_DIRECTIVES: int(20, 0, 1000),
  ROOMKEY_DRAIN_MS: z
    .string()
    .regex(/^\d+$/, 'must be a whole number')
    .optional()
    .transform((v) => (v === undefined ? undefined : Number(v)))
    .pipe(z.number().int().min(0).max(300_000).optional()),
  DATABASE_URL: z
    .string()
    .optional()
    .refine(
      (v) => v === undefined || v === '' || /^postgres(ql)?:\/\//.test(v),
      'must be a postgres:// URL',
    ),
  ROOMKEY_DATA_DIR: z.string().min(1).default('./.data'),
  ROOMKEY_DB_POOL_SIZE: int(10, 1, 200),
  ROOMKEY_DB_CONNECT_TIMEOUT_MS: int(3000, 100, 120_000),
  ROOMKEY_DB_ACQUIRE_TIMEOUT_MS: int(5000, 100, 120_000),
  ROOMKEY_DB_STATEMENT_TIMEOUT_MS: int(3000, 100, 3_600_000),
  ROOMKEY_DB_IDLE_IN_TRANSACTION_TIMEOUT_MS: int(30_000, 1000, 3_600_000),
  ROOMKEY_DB_MAINTENANCE_TIMEOUT_MS: int(600_000, 0, 86_400_000),
  ROOMKEY_DB_EMBEDDED_BUFFERS_MB: int(128, 8, 1024),
  ROOMKEY_MASTER_KEYS: keyList,
  ROOMKEY_AUDIT_KEYS: keyList,
  ROOMKEY_PASSWORD_HASH_CONCURRENCY: int(4, 1, 64),
  ROOMKEY_PASSWORD_HASH_QUEUE: int(64, 0, 10_000),
  ROOMKEY_TEST_FAST_PASSWORD_HASH: z.enum(['true', 'false']).optional(),
  REDIS_URL: z
    .string()
    .optional()
    .refine(
      (v) => v === undefined || /^rediss?:\/\/[^\s]+$/.test(v),
      'must be a redis:// or rediss:// URL',
    ),
  ROOMKEY_RATE_LIMIT_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9:_.-]{1,64}$/, 'letters, digits and : _ . - only (at most 64)')
    .default('roomkey:rl'),
  ROOMKEY_RATE_LIMIT_REDIS_TIMEOUT_MS: int(250, 10, 10_000),
  ROOMKEY_RATE_LIMIT_PUBLIC_PER_IP: int(300, 1, 1_000_000),
  ROOMKEY_RATE_LIMIT_WEBHOOK_PER_IP: int(1200, 1, 1_000_000),
  ROOMKEY_RATE_LIMIT_RED5_PER_IP: int(6000, 1, 10_000_000),
  ROOMKEY_RATE_LIMIT_RED5_PER_TENANT: int(6000, 1, 10_000_000),
  ROOMKEY_RATE_LIMIT_RED5_CONCURRENCY: int(16, 1, 1000),
  ROOMKEY_RATE_LIMIT_RED5_QUEUE: int(1000, 0, 100_000),
  ROOMKEY_RATE_LIMIT_RED5_REFUSAL_DELAY_MS: int(1000, 0, 30_000),
  ROOMKEY_RATE_LIMIT_PRINCIPAL_PER_MINUTE: int(5000, 1, 10_000_000),
  ROOMKEY_RATE_LIMIT_TENANT_PER_MINUTE: int(10_000, 1, 10_000_000),
  ROOMKEY_RATE_LIMIT_ACCOUNT_FAILURES: int(10, 1, 10_000),
  ROOMKEY_RATE_LIMIT_API_KEY_FAILURES: int(20, 1, 10_000),
  ROOMKEY_RATE_LIMIT_IP_FAILURES: int(100, 1, 1_000_000),
  ROOMKEY_RATE_LIMIT_FAILURE_WINDOW_SECONDS: int(900, 1, 86_400),
  ROOMKEY_RATE_LIMIT_LOCK_SECONDS: int(60, 1, 86_400),
  ROOMKEY_RATE_LIMIT_LOCK_MAX_SECONDS: int(3600, 1, 7 * 86_400),
  ROOMKEY_BOOTSTRAP_ADMIN_EMAIL: z.email().default('admin@roomkey.local'),
  ROOMKEY_BOOTSTRAP_ADMIN_PASSWORD: z
    .string()
    .optional()
    .refine(
      (v) => v === undefined || v === '' || (v.length >= 12 && v.length <= 1024),
      'must be 12 to 1024 characters',
    ),
  ROOMKEY_PUBLIC_URL: z
    .url()
    .optional()
    .refine(
      (v) => v === undefined || /^https?:\/\/[^/?#@]+(\/[^?#]*)?$/.test(v),
      'must be an http(s) URL without credentials, query or fragment',
    ),
  ROOMKEY_ACCESS_TOKEN_TTL_SECONDS: int(900, 60, 900),
  ROOMKEY_REFRESH_TOKEN_TTL_SECONDS: int(30 * 86_400, 300, 365 * 86_400),
  ROOMKEY_SIGNING_KEY_ROTATION_DAYS: int(30, 1, 365),
  ROOMKEY_IDP_TIMEOUT_MS: int(5000, 100, 60_000),
  ROOMKEY_JWKS_COOLDOWN_MS: int(30_000, 0, 3_600_000),
  ROOMKEY_ALLOW_INSECURE_IDP: z.enum(['true', 'false']).optional(),
  ROOMKEY_PROVIDER_TIMEOUT_MS: int(5000, 100, 60_000),
  ROOMKEY_PROVIDER_BREAKER_FAILURES: int(5, 1, 1000),
  ROOMKEY_PROVIDER_BREAKER_OPEN_MS: int(10_000, 100, 600_000),
  ROOMKEY_CACHE_TTL_MS: int(30_000, 0, 60_000),
  ROOMKEY_CACHE_MAX_ENTRIES: int(10_000, 1, 1_000_000),
  ROOMKEY_CACHE_BUS_HEARTBEAT_MS: int(5000, 100, 60_000),
  ROOMKEY_BOOTSTRAP_TENANT: z.string().regex(SLUG, 'must be a valid tenant slug').default('demo'),
});

export type RawEnv = Record<string, string | undefined>;

function productionProblems(env: RawEnv): string[] {
  if (env.NODE_ENV !== 'production') return [];
  const problems: string[] = [];
  if (!env.ROOMKEY_MASTER_KEYS) problems.push('ROOMKEY_MASTER_KEYS: required in production');
  if (!env.ROOMKEY_AUDIT_KEYS) problems.push('ROOMKEY_AUDIT_KEYS: required in production');
  const pw = env.ROOMKEY_BOOTSTRAP_ADMIN_PASSWORD;
  if (pw !== undefined && PLACEHOLDERS.test(pw))
    problems.push('ROOMKEY_BOOTSTRAP_ADMIN_PASSWORD: is a placeholder');
  if (env.DATABASE_URL && /:(change[-_]?me|password|secret|placeholder)@/i.test(env.DATABASE_URL)) {
    problems.push('DATABASE_URL: contains a placeholder password');
  }
  if (env.ROOMKEY_ALLOW_INSECURE_IDP === 'true') {
    problems.push(
      'ROOMKEY_ALLOW_INSECURE_IDP: http identity providers are not allowed in production',
    );
  }
  return problems;
}

/** The test suite's cheap password hashing is refused anywhere but under NODE_ENV=test. */
function testOnlyProblems(env: RawEnv): string[] {
  if (env.ROOMKEY_TEST_FAST_PASSWORD_HASH !== 'true' || env.NODE_ENV === 'test') return [];
  return ['ROOMKEY_TEST_FAST_PASSWORD_HASH: allowed only with NODE_ENV=test'];
}

/** An explicit drain must leave room, inside the hard shutdown cap, to finish what is in flight. */
function drainProblems(e: {
  ROOMKEY_DRAIN_MS?: number;
  ROOMKEY_SHUTDOWN_TIMEOUT_MS: number;
}): string[] {
  if (e.ROOMKEY_DRAIN_MS === undefined || e.ROOMKEY_DRAIN_MS < e.ROOMKEY_SHUTDOWN_TIMEOUT_MS)
    return [];
  return ['ROOMKEY_DRAIN_MS: must be less than ROOMKEY_SHUTDOWN_TIMEOUT_MS'];
}

/**
 * An IDE asked for where its packages are not installed (a production install) is refused at start,
 * not discovered by a browser as missing files.
 */
function ideProblems(env: RawEnv, missingIde: () => string[]): string[] {
  if (env.ROOMKEY_GRAPHQL_IDE !== 'true') return [];
  const missing = missingIde();
  if (missing.length === 0) return [];
  return [
    `ROOMKEY_GRAPHQL_IDE: the GraphQL IDE needs ${missing.join(', ')}, development dependencies that ` +
      'a production install (npm ci --omit=dev, the Docker image) leaves out; run `npm install` or unset it',
  ];
}

/**
 * Validates the environment and builds the typed configuration. Throws one `ConfigError` naming every
 * bad variable. In production, refuses to start without real secrets. `missingIde` names the GraphQL
 * IDE packages that are not installed; tests replace it to play a production install.
 */
export function loadConfig(
  env: RawEnv,
  missingIde: () => string[] = missingIdePackages,
): AppConfig {
  // Empty strings count as unset, as in most .env tooling.
  const cleaned = Object.fromEntries(
    Object.entries(env).filter(([, v]) => v !== undefined && v !== ''),
  );
  const parsed = envSchema.safeParse(cleaned);
  // Production rules are checked on the raw values too, so one report lists every problem.
  const problems = [
    ...productionProblems(cleaned),
    ...testOnlyProblems(cleaned),
    ...ideProblems(cleaned, missingIde),
    ...(parsed.success ? drainProblems(parsed.data) : []),
  ];
  if (!parsed.success) {
    problems.unshift(
      ...parsed.error.issues.map((i) => `${i.path.join('.') || '(env)'}: ${i.message}`),
    );
  }
  if (problems.length > 0 || !parsed.success) {
    // One line per variable: the first (schema) complaint is the most specific.
    const seen = new Set<string>();
    throw new ConfigError(
      problems.filter((p) => !seen.has(p.split(':')[0]) && seen.add(p.split(':')[0])),
    );
  }
  const e = parsed.data;
  const production = e.NODE_ENV === 'production';

  const inMemory = e.ROOMKEY_DATA_DIR === 'memory://';
  const isTest = e.NODE_ENV === 'test';
  return {
    app: {
      env: e.NODE_ENV,
      host: e.HOST,
      port: e.PORT,
      trustProxy: e.ROOMKEY_TRUST_PROXY,
      logLevel: e.LOG_LEVEL ?? (isTest ? 'warn' : 'info'),
      // Unset: on outside production wherever the IDE's development dependencies are installed.
      graphqlIde: e.ROOMKEY_GRAPHQL_IDE
        ? e.ROOMKEY_GRAPHQL_IDE === 'true'
        : !production && missingIde().length === 0,
      introspection: e.ROOMKEY_GRAPHQL_INTROSPECTION
        ? e.ROOMKEY_GRAPHQL_INTROSPECTION === 'true'
        : !production,
      bodyLimitBytes: e.ROOMKEY_BODY_LIMIT_BYTES,
      shutdownTimeoutMs: e.ROOMKEY_SHUTDOWN_TIMEOUT_MS,
      // Unset: 5 s in production (clamped to half the hard cap), none elsewhere (fast Ctrl-C).
      drainMs:
        e.ROOMKEY_DRAIN_MS ??
        (production ? Math.min(5000, Math.floor(e.ROOMKEY_SHUTDOWN_TIMEOUT_MS / 2)) : 0),
    },
    graphql: {
      maxDepth: e.ROOMKEY_GRAPHQL_MAX_DEPTH,
      maxAliases: e.ROOMKEY_GRAPHQL_MAX_ALIASES,
      maxCost: e.ROOMKEY_GRAPHQL_MAX_COST,
      maxTokens: e.ROOMKEY_GRAPHQL_MAX_TOKENS,
      maxDirectives: e.ROOMKEY_GRAPHQL_MAX_DIRECTIVES,
    },
    database: {
      url: e.DATABASE_URL,
      dataDir: inMemory ? e.ROOMKEY_DATA_DIR : path.resolve(e.ROOMKEY_DATA_DIR),
      inMemory,
      poolSize: e.ROOMKEY_DB_POOL_SIZE,
      connectTimeoutMs: e.ROOMKEY_DB_CONNECT_TIMEOUT_MS,
      acquireTimeoutMs: e.ROOMKEY_DB_ACQUIRE_TIMEOUT_MS,
      statementTimeoutMs: e.ROOMKEY_DB_STATEMENT_TIMEOUT_MS,
      idleInTransactionTimeoutMs: e.ROOMKEY_DB_IDLE_IN_TRANSACTION_TIMEOUT_MS,
      maintenanceTimeoutMs: e.ROOMKEY_DB_MAINTENANCE_TIMEOUT_MS,
      embeddedBuffersMb: e.ROOMKEY_DB_EMBEDDED_BUFFERS_MB,
    },
    security: {
      masterKeys: e.ROOMKEY_MASTER_KEYS,
      auditKeys: e.ROOMKEY_AUDIT_KEYS,
      passwordHashConcurrency: e.ROOMKEY_PASSWORD_HASH_CONCURRENCY,
      passwordHashQueue: e.ROOMKEY_PASSWORD_HASH_QUEUE,
      fastPasswordHashForTests: isTest && e.ROOMKEY_TEST_FAST_PASSWORD_HASH === 'true',
    },
    rateLimits: {
      redisUrl: e.REDIS_URL,
      prefix: e.ROOMKEY_RATE_LIMIT_PREFIX,
      redisTimeoutMs: e.ROOMKEY_RATE_LIMIT_REDIS_TIMEOUT_MS,
      publicPerIp: e.ROOMKEY_RATE_LIMIT_PUBLIC_PER_IP,
      webhookPerIp: e.ROOMKEY_RATE_LIMIT_WEBHOOK_PER_IP,
      red5PerIp: e.ROOMKEY_RATE_LIMIT_RED5_PER_IP,
      red5PerTenant: e.ROOMKEY_RATE_LIMIT_RED5_PER_TENANT,
      red5Concurrency: e.ROOMKEY_RATE_LIMIT_RED5_CONCURRENCY,
      red5Queue: e.ROOMKEY_RATE_LIMIT_RED5_QUEUE,
      red5RefusalDelayMs: e.ROOMKEY_RATE_LIMIT_RED5_REFUSAL_DELAY_MS,
      principalPerMinute: e.ROOMKEY_RATE_LIMIT_PRINCIPAL_PER_MINUTE,
      tenantPerMinute: e.ROOMKEY_RATE_LIMIT_TENANT_PER_MINUTE,
      accountFailures: e.ROOMKEY_RATE_LIMIT_ACCOUNT_FAILURES,
      apiKeyFailures: e.ROOMKEY_RATE_LIMIT_API_KEY_FAILURES,
      ipFailures: e.ROOMKEY_RATE_LIMIT_IP_FAILURES,
      failureWindowSeconds: e.ROOMKEY_RATE_LIMIT_FAILURE_WINDOW_SECONDS,
      lockSeconds: e.ROOMKEY_RATE_LIMIT_LOCK_SECONDS,
      lockMaxSeconds: Math.max(
        e.ROOMKEY_RATE_LIMIT_LOCK_MAX_SECONDS,
        e.ROOMKEY_RATE_LIMIT_LOCK_SECONDS,
      ),
    },
    auth: {
      publicUrl: (
        e.ROOMKEY_PUBLIC_URL ?? `http://${e.HOST === '0.0.0.0' ? '127.0.0.1' : e.HOST}:${e.PORT}`
      ).replace(/\/$/, ''),
      accessTokenTtlSeconds: e.ROOMKEY_ACCESS_TOKEN_TTL_SECONDS,
      refreshTokenTtlSeconds: e.ROOMKEY_REFRESH_TOKEN_TTL_SECONDS,
      signingKeyRotationDays: e.ROOMKEY_SIGNING_KEY_ROTATION_DAYS,
      idpTimeoutMs: e.ROOMKEY_IDP_TIMEOUT_MS,
      jwksCooldownMs: e.ROOMKEY_JWKS_COOLDOWN_MS,
      allowInsecureIdp: e.ROOMKEY_ALLOW_INSECURE_IDP === 'true',
    },
    providers: {
      timeoutMs: e.ROOMKEY_PROVIDER_TIMEOUT_MS,
      breakerFailures: e.ROOMKEY_PROVIDER_BREAKER_FAILURES,
      breakerOpenMs: e.ROOMKEY_PROVIDER_BREAKER_OPEN_MS,
    },
    cache: {
      ttlMs: e.ROOMKEY_CACHE_TTL_MS,
      maxEntries: e.ROOMKEY_CACHE_MAX_ENTRIES,
      busHeartbeatMs: e.ROOMKEY_CACHE_BUS_HEARTBEAT_MS,
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
