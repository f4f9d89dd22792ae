/** Typed configuration namespaces. Built once at boot by `loadConfig`; nothing else reads the environment. */
export type NodeEnv = 'development' | 'test' | 'production';

export interface AppSection {
  env: NodeEnv;
  host: string;
  port: number;
  /** Express `trust proxy` value: false, a hop count, or a list of trusted addresses/subnets. */
  trustProxy: boolean | number | string[];
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** Interactive GraphQL IDE at GET /graphql. */
  graphqlIde: boolean;
  introspection: boolean;
  /** Maximum request body size in bytes (JSON and GraphQL). */
  bodyLimitBytes: number;
  /** Hard cap on shutdown: past it the process exits 1 whatever is still running. */
  shutdownTimeoutMs: number;
  /**
   * After SIGTERM, how long readiness says 503 while every request (in flight or new) is still
   * served, each answer with `Connection: close`, before the server stops accepting connections.
   */
  drainMs: number;
}

export interface DatabaseSection {
  /** PostgreSQL connection URL; undefined selects the embedded PGlite database. */
  url: string | undefined;
  /** Folder for the embedded database and generated keys; `memory://` keeps everything in memory. */
  dataDir: string;
  inMemory: boolean;
  poolSize: number;
  /** Opening one PostgreSQL connection (TCP and startup), in milliseconds. */
  connectTimeoutMs: number;
  /**
   * Waiting for a pooled connection (both databases). With PostgreSQL it also bounds opening a new
   * one: pg-pool applies its `connectionTimeoutMillis` to both.
   */
  acquireTimeoutMs: number;
  /**
   * PostgreSQL `statement_timeout`. The client stops waiting for an answer one second later (a
   * database that went silent), and drops that connection.
   */
  statementTimeoutMs: number;
  /** PostgreSQL `idle_in_transaction_session_timeout`. */
  idleInTransactionTimeoutMs: number;
  /** Statement timeout while migrations run (they may wait for another instance's lock); 0 = none. */
  maintenanceTimeoutMs: number;
  /**
   * The embedded database's buffer pool (PostgreSQL `shared_buffers`) for a data folder, in MB.
   * In-memory databases use a fixed 16 MB (src/database/pglite-pool.ts).
   */
  embeddedBuffersMb: number;
}

export interface KeyEntry {
  id: string;
  key: Buffer;
}

export interface SecuritySection {
  /**
   * Master keys for secret encryption, newest first. Undefined in embedded mode when not configured:
   * the key store then generates one into the data folder.
   */
  masterKeys: KeyEntry[] | undefined;
  /** HMAC keys for the audit chain, newest first (same fallback as master keys). */
  auditKeys: KeyEntry[] | undefined;
  passwordHashConcurrency: number;
  /** Password checks allowed to wait for a hashing slot; beyond that they are refused at once. */
  passwordHashQueue: number;
  /**
   * NODE_ENV=test only (ROOMKEY_TEST_FAST_PASSWORD_HASH): new hashes use Argon2id at its
   * cheapest, so a test suite's thousands of sign-ins cost no minute of CPU. Never in a deployment.
   */
  fastPasswordHashForTests: boolean;
}

/** Rate limits (README "Rate limits"). Limits are per minute unless named otherwise. */
export interface RateLimitsSection {
  /** Shared counters across instances; unset: counters live in this process. */
  redisUrl: string | undefined;
  /** Prefix of every counter key (lets tests and deployments share one Redis). */
  prefix: string;
  /** Longest wait for one Redis command before falling back to this instance's counters. */
  redisTimeoutMs: number;
  /** Anonymous routes (login, refreshToken, exchangeLoginCode, /auth/* SSO), per route and IP. */
  publicPerIp: number;
  webhookPerIp: number;
  red5PerIp: number;
  red5PerTenant: number;
  /** Red5 validations of one tenant running at once, and waiting beyond those (per instance). */
  red5Concurrency: number;
  red5Queue: number;
  /** Over-budget Red5 answers are held back this long (0: at once). */
  red5RefusalDelayMs: number;
  /** Authenticated traffic, counted per GraphQL root field or HTTP request. */
  principalPerMinute: number;
  tenantPerMinute: number;
  /** Failed credentials in the failure window before a lock (account = email per tenant slug). */
  accountFailures: number;
  apiKeyFailures: number;
  ipFailures: number;
  failureWindowSeconds: number;
  /** First lock; each further lock within a day doubles it, up to the maximum. */
  lockSeconds: number;
  lockMaxSeconds: number;
}

export interface AuthSection {
  /** Public base URL of this instance: JWT issuer, SAML entity ids, OIDC callback URLs. */
  publicUrl: string;
  accessTokenTtlSeconds: number;
  refreshTokenTtlSeconds: number;
  signingKeyRotationDays: number;
  /** Identity-provider and JWKS requests: timeout, and the minimum gap between JWKS refetches. */
  idpTimeoutMs: number;
  jwksCooldownMs: number;
  /** Allows http:// identity providers (tests, local Keycloak). Refused in production. */
  allowInsecureIdp: boolean;
}

export interface BootstrapSection {
  adminEmail: string;
  /** Undefined means: generate one and print it once. */
  adminPassword: string | undefined;
  tenantSlug: string;
}

export interface ProvidersSection {
  /** Timeout of one vendor HTTP call (the whole attempt, including a retry, is bounded by 2×). */
  timeoutMs: number;
  /** Circuit breaker: consecutive failures that open it, and how long it stays open. */
  breakerFailures: number;
  breakerOpenMs: number;
}

/**
 * In-memory caches of the authenticated hot path (API-key principals, tenants, decrypted vendor
 * credentials, open sessions), emptied at once in every instance by the invalidation bus.
 */
export interface CacheSection {
  /** How long an entry may be served; 0 turns the caches off. A second line of defence only. */
  ttlMs: number;
  /** Entries per cache; the least recently used go first. */
  maxEntries: number;
  /**
   * PostgreSQL: how often the LISTEN connection is probed. A probe that fails (or a connection
   * that drops) stops serving from the caches until the connection is back.
   */
  busHeartbeatMs: number;
}

/**
 * Limits on one GraphQL document, checked before anything executes (no resolver runs for a
 * refused request). Tokens stop the parser itself; the rest are validation rules.
 */
export interface GraphqlSection {
  /** Deepest field nesting (fragments do not count as a level; introspection `__schema` exempt). */
  maxDepth: number;
  /** Aliased fields in one operation (`__typename` not counted). */
  maxAliases: number;
  /** Estimated cost: objects counted per item, `first` multiplies, audit fields weigh more. */
  maxCost: number;
  /** Lexical tokens in the document; the parser aborts past this. */
  maxTokens: number;
  /** Directives (`@include`, `@skip`, …) in one operation. */
  maxDirectives: number;
}

export interface AppConfig {
  app: AppSection;
  graphql: GraphqlSection;
  database: DatabaseSection;
  security: SecuritySection;
  rateLimits: RateLimitsSection;
  bootstrap: BootstrapSection;
  auth: AuthSection;
  providers: ProvidersSection;
  cache: CacheSection;
}

export const APP_CONFIG = Symbol('APP_CONFIG');
