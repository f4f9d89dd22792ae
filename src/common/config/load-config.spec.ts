import * as path from 'node:path';
import { ConfigError, loadConfig, type RawEnv } from './load-config';

const key = (fill: number): string => Buffer.alloc(32, fill).toString('base64');
const PROD_KEYS: RawEnv = {
  ROOMKEY_MASTER_KEYS: `m1:${key(1)}`,
  ROOMKEY_AUDIT_KEYS: `a1:${key(2)}`,
};

/** The problems of the ConfigError that `loadConfig(env)` throws; fails the test if it does not throw one. */
function problemsOf(env: RawEnv): string[] {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error('expected loadConfig to throw a ConfigError');
}

describe('loadConfig', () => {
  describe('rate limits', () => {
    it('should read REDIS_URL, the prefix and the limits when they are set', () => {
      const c = loadConfig({
        REDIS_URL: 'redis://127.0.0.1:6379/2',
        ROOMKEY_RATE_LIMIT_PREFIX: 'rk:test-1',
        ROOMKEY_RATE_LIMIT_TENANT_PER_MINUTE: '5',
        ROOMKEY_PASSWORD_HASH_QUEUE: '0',
      });
      expect(c.rateLimits.redisUrl).toBe('redis://127.0.0.1:6379/2');
      expect(c.rateLimits.prefix).toBe('rk:test-1');
      expect(c.rateLimits.tenantPerMinute).toBe(5);
      expect(c.security.passwordHashQueue).toBe(0);
    });

    it('should name each bad variable when REDIS_URL, the prefix or a limit is invalid', () => {
      const problems = problemsOf({
        REDIS_URL: 'http://127.0.0.1:6379',
        ROOMKEY_RATE_LIMIT_PREFIX: 'has space',
        ROOMKEY_RATE_LIMIT_PUBLIC_PER_IP: '0',
      });
      expect(problems.map((p) => p.split(':')[0]).sort()).toEqual([
        'REDIS_URL',
        'ROOMKEY_RATE_LIMIT_PREFIX',
        'ROOMKEY_RATE_LIMIT_PUBLIC_PER_IP',
      ]);
    });

    it('should never make the longest lock shorter than the first when both are set', () => {
      const c = loadConfig({
        ROOMKEY_RATE_LIMIT_LOCK_SECONDS: '600',
        ROOMKEY_RATE_LIMIT_LOCK_MAX_SECONDS: '60',
      });
      expect(c.rateLimits.lockMaxSeconds).toBe(600);
    });
  });

  describe('caches', () => {
    it('should read the cache settings, 0 turning the caches off', () => {
      const c = loadConfig({
        ROOMKEY_CACHE_TTL_MS: '0',
        ROOMKEY_CACHE_MAX_ENTRIES: '500',
        ROOMKEY_CACHE_BUS_HEARTBEAT_MS: '1000',
      });
      expect(c.cache).toEqual({ ttlMs: 0, maxEntries: 500, busHeartbeatMs: 1000 });
    });

    it('should refuse a TTL over a minute, an empty cache and a heartbeat under 100 ms', () => {
      const problems = problemsOf({
        ROOMKEY_CACHE_TTL_MS: '60001',
        ROOMKEY_CACHE_MAX_ENTRIES: '0',
        ROOMKEY_CACHE_BUS_HEARTBEAT_MS: '99',
      });
      expect(problems.map((p) => p.split(':')[0]).sort()).toEqual([
        'ROOMKEY_CACHE_BUS_HEARTBEAT_MS',
        'ROOMKEY_CACHE_MAX_ENTRIES',
        'ROOMKEY_CACHE_TTL_MS',
      ]);
    });
  });

  describe('defaults', () => {
    it('should use documented defaults when the environment is empty', () => {
      const c = loadConfig({});
      expect(c.app).toEqual({
        env: 'development',
        host: '127.0.0.1',
        port: 3000,
        trustProxy: false,
        logLevel: 'info',
        graphqlIde: true,
        introspection: true,
        bodyLimitBytes: 1_048_576,
        shutdownTimeoutMs: 10_000,
        drainMs: 0,
      });
      expect(c.database).toEqual({
        url: undefined,
        dataDir: path.resolve('./.data'),
        inMemory: false,
        poolSize: 10,
        connectTimeoutMs: 3000,
        acquireTimeoutMs: 5000,
        statementTimeoutMs: 3000,
        idleInTransactionTimeoutMs: 30_000,
        maintenanceTimeoutMs: 600_000,
        embeddedBuffersMb: 128,
      });
      expect(c.security).toEqual({
        masterKeys: undefined,
        auditKeys: undefined,
        passwordHashConcurrency: 4,
        passwordHashQueue: 64,
        fastPasswordHashForTests: false,
      });
      expect(c.rateLimits).toEqual({
        redisUrl: undefined,
        prefix: 'roomkey:rl',
        redisTimeoutMs: 250,
        publicPerIp: 300,
        webhookPerIp: 1200,
        red5PerIp: 6000,
        red5PerTenant: 6000,
        red5Concurrency: 16,
        red5Queue: 1000,
        red5RefusalDelayMs: 1000,
        principalPerMinute: 5000,
        tenantPerMinute: 10_000,
        accountFailures: 10,
        apiKeyFailures: 20,
        ipFailures: 100,
        failureWindowSeconds: 900,
        lockSeconds: 60,
        lockMaxSeconds: 3600,
      });
      expect(c.cache).toEqual({ ttlMs: 30_000, maxEntries: 10_000, busHeartbeatMs: 5000 });
      expect(c.bootstrap).toEqual({
        adminEmail: 'admin@roomkey.local',
        adminPassword: undefined,
        tenantSlug: 'demo',
      });
    });

    it('should treat empty strings as unset when variables are present but blank', () => {
      const c = loadConfig({
        PORT: '',
        ROOMKEY_BOOTSTRAP_ADMIN_PASSWORD: '',
        DATABASE_URL: '',
        ROOMKEY_MASTER_KEYS: '',
      });
      expect(c.app.port).toBe(3000);
      expect(c.bootstrap.adminPassword).toBeUndefined();
      expect(c.database.url).toBeUndefined();
      expect(c.security.masterKeys).toBeUndefined();
    });

    it('should default the log level to warn when NODE_ENV is test', () => {
      expect(loadConfig({ NODE_ENV: 'test' }).app.logLevel).toBe('warn');
      expect(loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'debug' }).app.logLevel).toBe('debug');
    });

    it('should turn the IDE and introspection off by default when NODE_ENV is production', () => {
      const c = loadConfig({ NODE_ENV: 'production', ...PROD_KEYS });
      expect(c.app.graphqlIde).toBe(false);
      expect(c.app.introspection).toBe(false);
      const on = loadConfig({
        NODE_ENV: 'production',
        ...PROD_KEYS,
        ROOMKEY_GRAPHQL_IDE: 'true',
        ROOMKEY_GRAPHQL_INTROSPECTION: 'true',
      });
      expect(on.app.graphqlIde).toBe(true);
      expect(on.app.introspection).toBe(true);
    });

    it('should refuse ROOMKEY_GRAPHQL_IDE=true when the IDE packages are not installed', () => {
      const production = { NODE_ENV: 'production', ...PROD_KEYS, ROOMKEY_GRAPHQL_IDE: 'true' };
      expect(() => loadConfig(production, () => ['graphiql', 'react'])).toThrow(
        /ROOMKEY_GRAPHQL_IDE: the GraphQL IDE needs graphiql, react, development dependencies/,
      );
      expect(loadConfig(production, () => []).app.graphqlIde).toBe(true);
    });

    it('should leave the IDE off by default outside production when its packages are not installed', () => {
      expect(loadConfig({}, () => ['graphiql']).app.graphqlIde).toBe(false);
      expect(loadConfig({}, () => []).app.graphqlIde).toBe(true);
      expect(loadConfig({ ROOMKEY_GRAPHQL_IDE: 'false' }, () => ['graphiql']).app.graphqlIde).toBe(
        false,
      );
    });

    it('should parse numbers when whole-number variables are set', () => {
      const c = loadConfig({
        PORT: '8080',
        ROOMKEY_BODY_LIMIT_BYTES: '2048',
        ROOMKEY_SHUTDOWN_TIMEOUT_MS: '0',
        ROOMKEY_DB_POOL_SIZE: '3',
        ROOMKEY_PASSWORD_HASH_CONCURRENCY: '2',
      });
      expect(c.app.port).toBe(8080);
      expect(c.app.bodyLimitBytes).toBe(2048);
      expect(c.app.shutdownTimeoutMs).toBe(0);
      expect(c.database.poolSize).toBe(3);
      expect(c.security.passwordHashConcurrency).toBe(2);
    });

    it('should parse database timeouts and the drain when they are set', () => {
      const c = loadConfig({
        ROOMKEY_DB_CONNECT_TIMEOUT_MS: '1000',
        ROOMKEY_DB_ACQUIRE_TIMEOUT_MS: '1500',
        ROOMKEY_DB_STATEMENT_TIMEOUT_MS: '2500',
        ROOMKEY_DB_IDLE_IN_TRANSACTION_TIMEOUT_MS: '9000',
        ROOMKEY_DB_MAINTENANCE_TIMEOUT_MS: '0',
        ROOMKEY_DB_EMBEDDED_BUFFERS_MB: '16',
        ROOMKEY_DRAIN_MS: '750',
      });
      expect(c.database).toMatchObject({
        connectTimeoutMs: 1000,
        acquireTimeoutMs: 1500,
        statementTimeoutMs: 2500,
        idleInTransactionTimeoutMs: 9000,
        maintenanceTimeoutMs: 0,
        embeddedBuffersMb: 16,
      });
      expect(c.app.drainMs).toBe(750);
    });

    it('should drain 5 s by default when NODE_ENV is production', () => {
      expect(loadConfig({ NODE_ENV: 'production', ...PROD_KEYS }).app.drainMs).toBe(5000);
    });

    it('should keep the default drain inside the hard cap when only the shutdown timeout is short', () => {
      const c = loadConfig({
        NODE_ENV: 'production',
        ...PROD_KEYS,
        ROOMKEY_SHUTDOWN_TIMEOUT_MS: '3000',
      });
      expect(c.app.drainMs).toBe(1500);
    });
  });

  describe('invalid variables', () => {
    it('should name every bad variable in one ConfigError when several are invalid', () => {
      const problems = problemsOf({
        PORT: 'abc',
        DATABASE_URL: 'mysql://db/x',
        ROOMKEY_BOOTSTRAP_TENANT: 'Bad_Slug',
      });
      expect(problems).toHaveLength(3);
      expect(problems.some((p) => p.startsWith('PORT:'))).toBe(true);
      expect(problems.some((p) => p.startsWith('DATABASE_URL:'))).toBe(true);
      expect(problems.some((p) => p.startsWith('ROOMKEY_BOOTSTRAP_TENANT:'))).toBe(true);
    });

    it('should put every problem in the error message when the configuration is invalid', () => {
      try {
        loadConfig({ PORT: 'abc', LOG_LEVEL: 'loud' });
        throw new Error('expected a ConfigError');
      } catch (err) {
        expect(err).toBeInstanceOf(ConfigError);
        expect((err as Error).message).toMatch(/PORT/);
        expect((err as Error).message).toMatch(/LOG_LEVEL/);
      }
    });

    it.each([
      ['PORT', '70000'],
      ['PORT', '-1'],
      ['ROOMKEY_BODY_LIMIT_BYTES', '1023'],
      ['ROOMKEY_DB_POOL_SIZE', '0'],
      ['ROOMKEY_DB_STATEMENT_TIMEOUT_MS', '50'],
      ['ROOMKEY_DB_ACQUIRE_TIMEOUT_MS', 'soon'],
      ['ROOMKEY_DB_EMBEDDED_BUFFERS_MB', '7'],
      ['ROOMKEY_DB_EMBEDDED_BUFFERS_MB', '1025'],
      ['ROOMKEY_DB_EMBEDDED_BUFFERS_MB', '64MB'],
      ['ROOMKEY_DRAIN_MS', '-1'],
      ['NODE_ENV', 'staging'],
      ['ROOMKEY_GRAPHQL_IDE', 'yes'],
      ['ROOMKEY_BOOTSTRAP_ADMIN_EMAIL', 'not-an-email'],
      ['ROOMKEY_BOOTSTRAP_ADMIN_PASSWORD', 'short'],
    ])('should reject %s when it is %p', (name, value) => {
      const problems = problemsOf({ [name]: value });
      expect(problems).toEqual([expect.stringMatching(new RegExp(`^${name}:`))]);
    });

    it('should reject ROOMKEY_DRAIN_MS when it leaves no time inside ROOMKEY_SHUTDOWN_TIMEOUT_MS', () => {
      const problems = problemsOf({
        ROOMKEY_DRAIN_MS: '10000',
        ROOMKEY_SHUTDOWN_TIMEOUT_MS: '10000',
      });
      expect(problems).toEqual([expect.stringMatching(/^ROOMKEY_DRAIN_MS:/)]);
    });

    it("should refuse the test suite's cheap password hashing outside NODE_ENV=test", () => {
      for (const NODE_ENV of ['production', 'development', undefined]) {
        expect(problemsOf({ NODE_ENV, ROOMKEY_TEST_FAST_PASSWORD_HASH: 'true' })).toContain(
          'ROOMKEY_TEST_FAST_PASSWORD_HASH: allowed only with NODE_ENV=test',
        );
      }
      expect(problemsOf({ NODE_ENV: 'test', ROOMKEY_TEST_FAST_PASSWORD_HASH: 'yes' })).toEqual([
        expect.stringMatching(/^ROOMKEY_TEST_FAST_PASSWORD_HASH:/),
      ]);
      const on = { NODE_ENV: 'test', ROOMKEY_TEST_FAST_PASSWORD_HASH: 'true' };
      expect(loadConfig(on).security.fastPasswordHashForTests).toBe(true);
      expect(loadConfig({ NODE_ENV: 'test' }).security.fastPasswordHashForTests).toBe(false);
      expect(
        loadConfig({ NODE_ENV: 'development', ROOMKEY_TEST_FAST_PASSWORD_HASH: 'false' }).security
          .fastPasswordHashForTests,
      ).toBe(false);
    });

    it('should report production requirements together with other problems when both are wrong', () => {
      // One restart should fix everything: a bad PORT must not hide the missing production keys.
      const problems = problemsOf({ NODE_ENV: 'production', PORT: 'abc' });
      expect(problems.some((p) => p.startsWith('PORT:'))).toBe(true);
      expect(problems.some((p) => p.startsWith('ROOMKEY_MASTER_KEYS:'))).toBe(true);
      expect(problems.some((p) => p.startsWith('ROOMKEY_AUDIT_KEYS:'))).toBe(true);
    });
  });

  describe('production secrets', () => {
    it('should refuse to start when both key lists are missing in production', () => {
      const problems = problemsOf({ NODE_ENV: 'production' });
      expect(problems).toEqual([
        'ROOMKEY_MASTER_KEYS: required in production',
        'ROOMKEY_AUDIT_KEYS: required in production',
      ]);
    });

    it('should refuse to start when only the audit keys are missing in production', () => {
      expect(
        problemsOf({ NODE_ENV: 'production', ROOMKEY_MASTER_KEYS: PROD_KEYS.ROOMKEY_MASTER_KEYS }),
      ).toEqual(['ROOMKEY_AUDIT_KEYS: required in production']);
    });

    it('should start without keys when not in production', () => {
      expect(loadConfig({ NODE_ENV: 'development' }).security.masterKeys).toBeUndefined();
    });

    it.each(['changeme', '<secret>', 'CHANGE_ME', '${MASTER_KEY}'])(
      'should refuse a key when its value is the placeholder %p',
      (placeholder) => {
        const problems = problemsOf({ ROOMKEY_MASTER_KEYS: `k1:${placeholder}` });
        expect(problems).toEqual(['ROOMKEY_MASTER_KEYS: key "k1" is a placeholder']);
      },
    );

    it.each(['changeme-please', '<admin-password-here>'])(
      'should refuse the bootstrap admin password when it is the placeholder %p in production',
      (placeholder) => {
        const problems = problemsOf({
          NODE_ENV: 'production',
          ...PROD_KEYS,
          ROOMKEY_BOOTSTRAP_ADMIN_PASSWORD: placeholder,
        });
        expect(problems).toEqual(['ROOMKEY_BOOTSTRAP_ADMIN_PASSWORD: is a placeholder']);
      },
    );

    it('should refuse a too-short bootstrap admin password when it is changeme in production', () => {
      const problems = problemsOf({
        NODE_ENV: 'production',
        ...PROD_KEYS,
        ROOMKEY_BOOTSTRAP_ADMIN_PASSWORD: 'changeme',
      });
      expect(problems).toEqual([expect.stringMatching(/^ROOMKEY_BOOTSTRAP_ADMIN_PASSWORD:/)]);
    });

    it('should refuse a DATABASE_URL when its password is a placeholder in production', () => {
      const problems = problemsOf({
        NODE_ENV: 'production',
        ...PROD_KEYS,
        DATABASE_URL: 'postgres://roomkey:changeme@db:5432/roomkey',
      });
      expect(problems).toEqual(['DATABASE_URL: contains a placeholder password']);
    });

    it('should accept real secrets when in production', () => {
      const c = loadConfig({
        NODE_ENV: 'production',
        ...PROD_KEYS,
        DATABASE_URL: 'postgres://roomkey:s3cr3t-Xq9@db:5432/roomkey',
        ROOMKEY_BOOTSTRAP_ADMIN_PASSWORD: 'a-real-long-password-9',
      });
      expect(c.database.url).toBe('postgres://roomkey:s3cr3t-Xq9@db:5432/roomkey');
      expect(c.security.masterKeys?.[0].id).toBe('m1');
      expect(c.bootstrap.adminPassword).toBe('a-real-long-password-9');
    });
  });

  describe('key lists', () => {
    it('should parse ids and 32-byte keys in order when the list is valid', () => {
      const c = loadConfig({ ROOMKEY_MASTER_KEYS: `new:${key(7)}, old_1:${key(8)}` });
      expect(c.security.masterKeys?.map((k) => k.id)).toEqual(['new', 'old_1']);
      expect(c.security.masterKeys?.[0].key.equals(Buffer.alloc(32, 7))).toBe(true);
      expect(c.security.masterKeys?.[1].key.equals(Buffer.alloc(32, 8))).toBe(true);
    });

    it.each([16, 31, 33, 64])('should refuse a key when it decodes to %i bytes', (bytes) => {
      const problems = problemsOf({
        ROOMKEY_AUDIT_KEYS: `a1:${Buffer.alloc(bytes, 3).toString('base64')}`,
      });
      expect(problems).toEqual(['ROOMKEY_AUDIT_KEYS: key "a1" must decode to 32 bytes']);
    });

    it('should refuse the list when a kid appears twice', () => {
      const problems = problemsOf({ ROOMKEY_MASTER_KEYS: `k1:${key(1)},k1:${key(2)}` });
      expect(problems).toEqual(['ROOMKEY_MASTER_KEYS: key id "k1" appears twice']);
    });

    it.each([
      ['a key without a kid', key(1)],
      ['an empty kid', `:${key(1)}`],
      ['an empty key', 'k1:'],
      ['three parts', `k1:${key(1)}:extra`],
      ['a kid with a space', `my key:${key(1)}`],
      ['a kid longer than 32 characters', `${'k'.repeat(33)}:${key(1)}`],
      ['a trailing empty entry', `k1:${key(1)},`],
    ])('should refuse the list when it has %s', (_label, value) => {
      const problems = problemsOf({ ROOMKEY_MASTER_KEYS: value });
      expect(problems).toEqual([
        'ROOMKEY_MASTER_KEYS: expected kid:base64key entries separated by commas',
      ]);
    });

    it('should report both key lists when both are malformed', () => {
      const problems = problemsOf({
        ROOMKEY_MASTER_KEYS: 'nope',
        ROOMKEY_AUDIT_KEYS: `a:${key(1)},a:${key(1)}`,
      });
      expect(problems).toHaveLength(2);
      expect(problems[0]).toMatch(/^ROOMKEY_MASTER_KEYS:/);
      expect(problems[1]).toMatch(/^ROOMKEY_AUDIT_KEYS:/);
    });
  });

  describe('trust proxy', () => {
    it.each<[string, boolean | number | string[]]>([
      ['false', false],
      ['true', true],
      ['2', 2],
      ['0', 0],
      ['10.0.0.0/8,loopback', ['10.0.0.0/8', 'loopback']],
      [' 10.0.0.1 , 192.168.0.0/16 ', ['10.0.0.1', '192.168.0.0/16']],
    ])('should parse ROOMKEY_TRUST_PROXY when it is %p', (raw, expected) => {
      expect(loadConfig({ ROOMKEY_TRUST_PROXY: raw }).app.trustProxy).toEqual(expected);
    });

    it('should not trust any proxy when ROOMKEY_TRUST_PROXY is unset', () => {
      expect(loadConfig({}).app.trustProxy).toBe(false);
    });

    it('should refuse ROOMKEY_TRUST_PROXY when an entry is neither an address, a subnet nor a known name', () => {
      // Express would otherwise throw "invalid IP address" later, outside the ConfigError report.
      const problems = problemsOf({ ROOMKEY_TRUST_PROXY: 'loopback,not-an-address' });
      expect(problems).toEqual([expect.stringMatching(/^ROOMKEY_TRUST_PROXY:/)]);
    });
  });

  describe('GraphQL limits', () => {
    it('should use the documented limits when no GraphQL limit is set', () => {
      expect(loadConfig({}).graphql).toEqual({
        maxDepth: 7,
        maxAliases: 15,
        maxCost: 20_000,
        maxTokens: 1000,
        maxDirectives: 20,
      });
    });

    it('should read every limit when the variables are set', () => {
      const c = loadConfig({
        ROOMKEY_GRAPHQL_MAX_DEPTH: '3',
        ROOMKEY_GRAPHQL_MAX_ALIASES: '0',
        ROOMKEY_GRAPHQL_MAX_COST: '500',
        ROOMKEY_GRAPHQL_MAX_TOKENS: '300',
        ROOMKEY_GRAPHQL_MAX_DIRECTIVES: '2',
      });
      expect(c.graphql).toEqual({
        maxDepth: 3,
        maxAliases: 0,
        maxCost: 500,
        maxTokens: 300,
        maxDirectives: 2,
      });
    });

    it('should refuse a limit when it is zero, negative or not a whole number', () => {
      const problems = problemsOf({
        ROOMKEY_GRAPHQL_MAX_DEPTH: '0',
        ROOMKEY_GRAPHQL_MAX_COST: '-1',
        ROOMKEY_GRAPHQL_MAX_TOKENS: '1e9',
      });
      expect(problems.map((p) => p.split(':')[0]).sort()).toEqual([
        'ROOMKEY_GRAPHQL_MAX_COST',
        'ROOMKEY_GRAPHQL_MAX_DEPTH',
        'ROOMKEY_GRAPHQL_MAX_TOKENS',
      ]);
    });
  });

  describe('data folder', () => {
    it('should keep the database in memory when ROOMKEY_DATA_DIR is memory://', () => {
      const c = loadConfig({ ROOMKEY_DATA_DIR: 'memory://' });
      expect(c.database.dataDir).toBe('memory://');
      expect(c.database.inMemory).toBe(true);
    });

    it('should resolve the folder to an absolute path when ROOMKEY_DATA_DIR is relative', () => {
      const c = loadConfig({ ROOMKEY_DATA_DIR: 'var/rk' });
      expect(c.database.dataDir).toBe(path.resolve('var/rk'));
      expect(path.isAbsolute(c.database.dataDir)).toBe(true);
      expect(c.database.inMemory).toBe(false);
    });

    it('should select PostgreSQL when DATABASE_URL uses the postgresql scheme', () => {
      expect(loadConfig({ DATABASE_URL: 'postgresql://u@h/db' }).database.url).toBe(
        'postgresql://u@h/db',
      );
    });
  });

  describe('bootstrap', () => {
    it('should lower-case the admin email when it is given in mixed case', () => {
      expect(
        loadConfig({ ROOMKEY_BOOTSTRAP_ADMIN_EMAIL: 'Admin.Person@Example.COM' }).bootstrap
          .adminEmail,
      ).toBe('admin.person@example.com');
    });

    it.each(['ab', 'Demo', '-demo', 'demo-', 'de_mo', 'a'.repeat(41)])(
      'should refuse the tenant slug when it is %p',
      (slug) => {
        expect(problemsOf({ ROOMKEY_BOOTSTRAP_TENANT: slug })).toEqual([
          'ROOMKEY_BOOTSTRAP_TENANT: must be a valid tenant slug',
        ]);
      },
    );

    it('should accept the tenant slug when it is valid', () => {
      expect(loadConfig({ ROOMKEY_BOOTSTRAP_TENANT: 'acme-2' }).bootstrap.tenantSlug).toBe(
        'acme-2',
      );
    });
  });
});
