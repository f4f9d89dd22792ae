/**
 * `npm run bench`: load on the hot paths (SECURITY.md row 15) — Red5 round-trip validation,
 * Agora and LiveKit token minting through the compatibility routes, and GraphQL createConnection
 * against the OpenVidu emulator — on the demo setup (embedded PGlite in memory, vendor emulators
 * on 127.0.0.1). Prints throughput, latency percentiles, errors and memory per scenario.
 *
 * autocannon runs in this process, beside the server, so both share the machine's cores: the
 * numbers are a floor and a baseline to compare commits with, not a capacity plan.
 *   BENCH_SECONDS (default 10), BENCH_CONNECTIONS (default 10),
 *   BENCH_DATABASE_URL (a PostgreSQL database whose name contains "bench", instead of the
 *   embedded one; it is emptied first)
 */
import autocannon from 'autocannon';
import { runDemo } from '../scripts/demo';
import { emptyDatabase } from './bench-database';

interface Scenario {
  name: string;
  method: 'GET' | 'POST';
  path: string;
  body?: unknown;
  auth: boolean;
  /** A 200 answer is not enough (Red5 answers 200 to denials): check one sample answer. */
  expect: (body: string) => boolean;
  /** When every answer has the same body: checked on all of them (a mismatch is an error). */
  exactBody?: string;
}

const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 10);

async function main(): Promise<void> {
  const databaseUrl = process.env.BENCH_DATABASE_URL;
  if (databaseUrl) await emptyDatabase(databaseUrl);
  // The hot paths, not the rate limits, are measured here (bench:isolation measures those): one
  // client hammering one tenant would exhaust the default per-minute budgets in seconds.
  const unlimited = '10000000';
  const demo = await runDemo({
    quiet: true,
    databaseUrl,
    env: {
      ROOMKEY_RATE_LIMIT_RED5_PER_IP: unlimited,
      ROOMKEY_RATE_LIMIT_RED5_PER_TENANT: unlimited,
      ROOMKEY_RATE_LIMIT_PRINCIPAL_PER_MINUTE: unlimited,
      ROOMKEY_RATE_LIMIT_TENANT_PER_MINUTE: unlimited,
    },
  });
  const authorization = `Basic ${Buffer.from(demo.apiKey).toString('base64')}`;
  const gql = async <T>(query: string): Promise<T> => {
    const res = await fetch(`${demo.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization },
      body: JSON.stringify({ query }),
    });
    return ((await res.json()) as { data: T }).data;
  };
  try {
    const red5 = await gql<{ createSession: { id: string } }>(
      'mutation { createSession(input: {provider: RED5, customSessionId: "bench-stream"}) { id } }',
    );
    const issued = await gql<{
      createConnection: { credential: { username: string; password: string; token: string } };
    }>(
      `mutation { createConnection(input: {sessionId: "${red5.createSession.id}", role: PUBLISHER}) { credential { ... on Red5Credential { username password token } } } }`,
    );
    const ov = await gql<{ createSession: { id: string } }>(
      'mutation { createSession(input: {provider: OPENVIDU, customSessionId: "bench-room"}) { id } }',
    );
    const c = issued.createConnection.credential;
    const t = '/t/demo';
    const scenarios: Scenario[] = [
      {
        name: 'Red5 validateCredentials (valid token)',
        method: 'POST',
        path: `${t}/red5/validateCredentials`,
        body: {
          type: 'publisher',
          streamID: 'bench-stream',
          token: c.token,
          username: c.username,
          password: c.password,
        },
        auth: false,
        expect: (b) => b === '{"result":true}',
        exactBody: '{"result":true}',
      },
      {
        name: 'Red5 validateCredentials (unknown token)',
        method: 'POST',
        path: `${t}/red5/validateCredentials`,
        body: { type: 'publisher', streamID: 'bench-stream', token: 'x'.repeat(43) },
        auth: false,
        expect: (b) => b === '{"result":false}',
        exactBody: '{"result":false}',
      },
      {
        name: 'Agora token service GET /rtc (API key)',
        method: 'GET',
        path: `${t}/agora/rtc/bench-channel/publisher/uid/42/?expiry=600`,
        auth: true,
        expect: (b) => b.startsWith('{"rtcToken":"007'),
      },
      {
        name: 'LiveKit sample POST /token (API key)',
        method: 'POST',
        path: `${t}/livekit/token`,
        body: { roomName: 'bench-room', participantName: 'alice' },
        auth: true,
        expect: (b) => b.startsWith('{"token":"ey'),
      },
      {
        name: 'GraphQL createConnection (OpenVidu emulator)',
        method: 'POST',
        path: '/graphql',
        body: {
          query: `mutation { createConnection(input: {sessionId: "${ov.createSession.id}"}) { id credential { ... on OpenViduCredential { token } } } }`,
        },
        auth: true,
        expect: (b) => b.includes('"token":"ws'),
      },
    ];
    process.stdout.write(
      `Roomkey hot paths — ${seconds} s each, ${connections} connections, Node ${process.version}, ${databaseUrl ? 'PostgreSQL' : 'embedded PGlite'}\n\n`,
    );
    process.stdout.write(
      `${'scenario'.padEnd(46)}${'req/s'.padStart(9)}${'p50 ms'.padStart(9)}${'p99 ms'.padStart(9)}${'max ms'.padStart(9)}${'errors'.padStart(8)}${'non-2xx'.padStart(9)}${'RSS MB'.padStart(9)}\n`,
    );
    for (const s of scenarios) await run(demo.url, authorization, s);
  } finally {
    await demo.close();
  }
}

async function run(base: string, authorization: string, s: Scenario): Promise<void> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (s.auth) headers.authorization = authorization;
  const body = s.body === undefined ? undefined : JSON.stringify(s.body);
  const probe = await fetch(base + s.path, { method: s.method, headers, body });
  const sample = await probe.text();
  if (!s.expect(sample))
    throw new Error(`${s.name}: unexpected answer ${probe.status} ${sample.slice(0, 200)}`);
  const result = await autocannon({
    url: base + s.path,
    method: s.method,
    headers,
    body,
    connections,
    duration: seconds,
    ...(s.exactBody ? { expectBody: s.exactBody } : {}),
  });
  const rss = process.memoryUsage().rss / 1024 / 1024;
  process.stdout.write(
    `${s.name.padEnd(46)}${result.requests.average.toFixed(0).padStart(9)}${String(result.latency.p50).padStart(9)}${String(result.latency.p99).padStart(9)}${String(result.latency.max).padStart(9)}${String(result.errors + result.timeouts + result.mismatches).padStart(8)}${String(result.non2xx).padStart(9)}${rss.toFixed(0).padStart(9)}\n`,
  );
}

main().catch((err: unknown) => {
  process.stderr.write(
    `bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  process.exit(1);
});
