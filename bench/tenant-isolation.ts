/**
 * `npm run bench:isolation`: does a flood on one tenant slow another (docs/security.md S13)?
 * Two tenants, each with a Red5 credential and one valid publisher credential. Tenant B's Red5
 * server validates at a steady, light rate (BENCH_QUIET_RATE req/s, default 50) and we record its
 * p50/p99: first alone, then while tenant A's public `validateCredentials` is flooded
 * (BENCH_CONNECTIONS connections, default 50, from another client IP, by autocannon in a child
 * process so the flood's own client work is not on the server's event loop). Prints both, and how A's
 * flood was answered (always HTTP 200; `{"result":false}` past A's per-tenant budget).
 *
 * Default limits apply (ROOMKEY_RATE_LIMIT_* from the environment are honoured). The two Red5
 * servers get different client IPs through X-Forwarded-For (the app trusts loopback here), as in
 * production where each tenant's Red5 server has its own address. autocannon runs in this process
 * beside the server, so read ratios, not absolutes.
 *   BENCH_DATABASE_URL (a PostgreSQL database whose name contains "bench": emptied, then used
 *   instead of in-memory PGlite), BENCH_SECONDS (default 10), BENCH_CONNECTIONS (default 50), BENCH_QUIET_RATE (default 50,
 *   capped at half of the per-tenant budget), BENCH_WARMUP_SECONDS (flood before B is measured
 *   again, default 2)
 */
import 'reflect-metadata';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { type Server } from 'node:http';
import { type AddressInfo } from 'node:net';
import autocannon from 'autocannon';
import { ApiKeysService } from '../src/api-keys/api-keys.service';
import { createApp } from '../src/app.factory';
import { systemActor } from '../src/audit/audit-actor';
import { MemberRole } from '../src/common/auth/roles';
import { loadConfig, processEnv } from '../src/common/config';
import { RequestContext } from '../src/common/context';
import { TenantsService } from '../src/tenants/tenants.service';
import { UsersService } from '../src/users/users.service';
import { DataSource } from 'typeorm';
import { emptyDatabase } from './bench-database';

const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 50);
const quietRateWanted = Number(process.env.BENCH_QUIET_RATE ?? 50);
const warmupSeconds = Number(process.env.BENCH_WARMUP_SECONDS ?? 2);
/** 0: a closed-loop flood (each connection sends again as soon as answered); else req/s in all. */
const floodRate = Number(process.env.BENCH_FLOOD_RATE ?? 0);

interface Red5Tenant {
  slug: string;
  body: string;
}

async function main(): Promise<void> {
  const limits = Object.fromEntries(
    Object.entries(processEnv()).filter(
      (e): e is [string, string] =>
        (e[0].startsWith('ROOMKEY_RATE_LIMIT_') || e[0] === 'REDIS_URL') && e[1] !== undefined,
    ),
  );
  const databaseUrl = process.env.BENCH_DATABASE_URL;
  if (databaseUrl) await emptyDatabase(databaseUrl);
  const config = loadConfig({
    NODE_ENV: 'development',
    ROOMKEY_DATA_DIR: 'memory://',
    ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
    LOG_LEVEL: 'silent',
    ROOMKEY_BOOTSTRAP_TENANT: 'demo',
    ROOMKEY_TRUST_PROXY: 'loopback',
    ...limits,
  });
  // B must stay within its own per-tenant budget, or its own refusals would pollute the numbers.
  const quietRate = Math.max(
    1,
    Math.min(quietRateWanted, Math.floor(config.rateLimits.red5PerTenant / 120)),
  );
  const app = await createApp(config, { bannerOut: () => undefined });
  await app.listen(0, '127.0.0.1');
  const { port } = (app.getHttpServer() as Server).address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  try {
    const seed = async (slug: string): Promise<Red5Tenant> => {
      const user = await app
        .get(UsersService)
        .create({ email: `owner@${slug}.bench`, password: randomBytes(16).toString('hex') });
      const tenant = await app
        .get(DataSource)
        .transaction((m) =>
          app.get(TenantsService).insertWithOwner(m, slug, slug, user.id, systemActor('bench')),
        );
      const { apiKey, secret } = await app
        .get(ApiKeysService)
        .create(RequestContext.system(tenant), {
          name: 'bench',
          role: MemberRole.ADMIN,
          expiresAt: null,
        });
      const authorization = `Basic ${Buffer.from(`${apiKey.keyId}:${secret}`).toString('base64')}`;
      const gql = async <T>(query: string): Promise<T> => {
        const res = await fetch(`${url}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization },
          body: JSON.stringify({ query }),
        });
        const body = (await res.json()) as { data?: T; errors?: unknown };
        if (!body.data) throw new Error(`setup failed: ${JSON.stringify(body.errors)}`);
        return body.data;
      };
      await gql(
        'mutation { createProviderCredential(input: {name: "red5", isDefault: true, red5: {tokenTtlSeconds: 3600}}) { id } }',
      );
      const s = await gql<{ createSession: { id: string } }>(
        'mutation { createSession(input: {provider: RED5, customSessionId: "stream"}) { id } }',
      );
      const c = await gql<{
        createConnection: { credential: { username: string; password: string; token: string } };
      }>(
        `mutation { createConnection(input: {sessionId: "${s.createSession.id}", role: PUBLISHER}) { credential { ... on Red5Credential { username password token } } } }`,
      );
      const cred = c.createConnection.credential;
      return {
        slug,
        body: JSON.stringify({ type: 'publisher', streamID: 'stream', ...cred }),
      };
    };
    const a = await seed('flooded-a');
    const b = await seed('quiet-b');
    const validate = (t: Red5Tenant, ip: string) => ({
      url: `${url}/t/${t.slug}/red5/validateCredentials`,
      method: 'POST' as const,
      headers: { 'content-type': 'application/json', 'x-forwarded-for': ip },
      body: t.body,
    });
    const quiet = () =>
      autocannon({
        ...validate(b, '192.0.2.20'),
        connections: 1,
        overallRate: quietRate,
        duration: seconds,
        expectBody: '{"result":true}',
      });

    process.stdout.write(
      `Roomkey tenant isolation — Red5 validateCredentials, ${seconds} s, B at ${quietRate} req/s, A flooded with ${connections} connections${floodRate > 0 ? ` at ${floodRate} req/s` : ' (closed loop)'} (B measured from ${warmupSeconds} s into the flood), Red5 budget ${config.rateLimits.red5PerTenant}/min per tenant, ${databaseUrl ? 'PostgreSQL' : 'embedded PGlite'}, Node ${process.version}\n\n`,
    );
    const alone = await quiet();
    // The flood runs in its own process: a load generator on the server's event loop would slow B
    // by itself and hide what the limits do.
    const flood = floodProcess(validate(a, '198.51.100.10'), connections, seconds + warmupSeconds);
    await new Promise((r) => setTimeout(r, warmupSeconds * 1000));
    const [underFlood, floodResult] = await Promise.all([quiet(), flood]);
    const [{ n: accepted }] = await app.get(DataSource).query<Array<{ n: number }>>(
      `SELECT count(*)::int AS n FROM audit_event e JOIN tenant t ON t.id = e.tenant_id
         WHERE t.slug = $1 AND e.action = 'red5.validated' AND e.outcome = 'SUCCESS'`,
      [a.slug],
    );
    // Responses still in flight when autocannon stopped were validated but not counted by it.
    const refused = Math.max(0, floodResult.requests.total - floodResult.non2xx - accepted);
    const row = (name: string, r: autocannon.Result): string =>
      `${name.padEnd(34)}${r.requests.average.toFixed(0).padStart(9)}${String(r.latency.p50).padStart(9)}${String(r.latency.p99).padStart(9)}${String(r.errors + r.timeouts + r.mismatches).padStart(8)}${String(r.non2xx).padStart(9)}\n`;
    process.stdout.write(
      `${'scenario'.padEnd(34)}${'req/s'.padStart(9)}${'p50 ms'.padStart(9)}${'p99 ms'.padStart(9)}${'errors'.padStart(8)}${'non-2xx'.padStart(9)}\n`,
    );
    process.stdout.write(row('tenant B alone', alone));
    process.stdout.write(row('tenant B while A is flooded', underFlood));
    process.stdout.write(
      `${'tenant A flood (separate process)'.padEnd(34)}${floodResult.requests.average.toFixed(0).padStart(9)}${String(floodResult.latency.p50).padStart(9)}${String(floodResult.latency.p99).padStart(9)}${String(floodResult.errors + floodResult.timeouts).padStart(8)}${String(floodResult.non2xx).padStart(9)}\n`,
    );
    process.stdout.write(
      `\nB p50 quiet: ${alone.latency.p50} ms, under flood: ${underFlood.latency.p50} ms (x${(underFlood.latency.p50 / Math.max(alone.latency.p50, 0.001)).toFixed(1)})\n`,
    );
    process.stdout.write(
      `A's flood: ${accepted} answered {"result":true} within its budget, ${refused} refused {"result":false} (all HTTP 200: ${floodResult.non2xx === 0})\n`,
    );
  } finally {
    await app.close();
  }
}

interface FloodResult {
  requests: { average: number; total: number };
  latency: { p50: number; p99: number };
  errors: number;
  timeouts: number;
  non2xx: number;
}

/** autocannon's own CLI in a child process, its JSON result parsed. */
function floodProcess(
  target: { url: string; headers: Record<string, string>; body: string },
  connections: number,
  duration: number,
): Promise<FloodResult> {
  const args = [
    require.resolve('autocannon/autocannon.js'),
    '--json',
    '-c',
    String(connections),
    '-d',
    String(duration),
    ...(floodRate > 0 ? ['-R', String(floodRate)] : []),
    '-m',
    'POST',
    '-b',
    target.body,
    ...Object.entries(target.headers).flatMap(([k, v]) => ['-H', `${k}=${v}`]),
    target.url,
  ];
  return new Promise((resolve, reject) => {
    execFile(process.execPath, args, { maxBuffer: 16 * 1024 * 1024 }, (err, stdout) => {
      if (err) return reject(new Error(`autocannon failed: ${err.message}`));
      resolve(JSON.parse(stdout) as FloodResult);
    });
  });
}

main().catch((err: unknown) => {
  process.stderr.write(
    `bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  process.exit(1);
});
