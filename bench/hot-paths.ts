/**
 * `npm run bench`: the measurement protocol of docs/decisions.md#issue-11. In one run, on one core, at
 * BENCH_CONNECTIONS (default 50) connections:
 *   (a) a replica of the Agora token service sample (bench/agora-sample.ts: Express 5 +
 *       `agora-token`, no auth, no record) — the baseline;
 *   (b) Roomkey's Agora compat route with API-key auth, the tenant's credential and its audit event;
 *   (c) Roomkey's Red5 `validateCredentials` with a valid token (every answer `{"result":true}`);
 *   (d) Roomkey's GraphQL `createConnection` on an Agora session;
 * then the ratio table against the issue's targets (PostgreSQL only; embedded PGlite is reported
 * with no target) and the audit check: each Roomkey scenario must have appended exactly one
 * issuance event (`connection.created`, or `red5.validated`) per 2xx answer and nothing else
 * (but the per-minute `auth.succeeded.summary`), and the tenant's chain must verify. A count that
 * differs, any other event, a wrong answer body or a chain that does not verify fails the run
 * (exit 1); a missed target does not.
 *
 * Each server runs alone as its own process on core 0 (Roomkey is the compiled demo setup, see
 * bench/roomkey-server.ts); autocannon runs in another process on core 1 (bench/load.ts). Each
 * scenario: one probe, a warm-up (steps of half of BENCH_WARMUP_SECONDS, default 2, until the rate
 * settles: 2 to 4 steps), then about BENCH_SECONDS (default 10) of load, sized from the warm-up's
 * rate as a number of requests so that every request sent is answered and counted (no run ends
 * with requests abandoned in flight). The rate limits are raised: the hot paths are measured
 * here, not the limits (bench:isolation measures those).
 *   BENCH_DATABASE_URL: a PostgreSQL database whose name contains "bench" (emptied first) instead
 *   of the embedded one. BENCH_EXTRA=1 adds LiveKit, OpenVidu and Red5-denial scenarios.
 */
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { Client } from 'pg';
import { type AuditLedger, type Gql, type Tally, graphqlLedger, sqlLedger } from './audit-ledger';
import { createIfMissing, emptyDatabase } from './bench-database';
import {
  type Pinning,
  LoadRunner,
  childCpuMicros,
  childRssMb,
  detectPinning,
  nextMessage,
  startScript,
  startServer,
  stopChild,
} from './bench-processes';
import { type BodyCheck, type LoadResult } from './load';
import {
  type Plan,
  cleanRun,
  commandLine,
  commit,
  loadAverage,
  measuredRun,
  probe,
  protocolFromEnv,
  protocolLine,
  warmUp,
} from './protocol';

const protocol = protocolFromEnv();
const extra = process.env.BENCH_EXTRA === '1';
const databaseUrl = process.env.BENCH_DATABASE_URL || undefined;
const UNLIMITED = '10000000';

type Key = 'sample' | 'compat' | 'red5' | 'graphql' | 'livekit' | 'openvidu' | 'red5-denied';

interface Scenario {
  key: Key;
  name: string;
  method: 'GET' | 'POST';
  path: string;
  body?: unknown;
  auth: boolean;
  check: BodyCheck;
  /** The audit action each 2xx answer must append exactly once (Roomkey scenarios). */
  issuance?: string;
}

interface Measured {
  scenario: Scenario;
  load: LoadResult;
  rssMb: number | null;
  /** The server's CPU time per answer over the measured run (µs). */
  cpuPerAnswer: number | null;
  /** SQL statements the server sent per answer over the measured run (Roomkey only). */
  sqlPerAnswer: number | null;
  tally?: Tally;
}

/** Authenticated requests are summarised once per principal and minute (README "Audit log"). */
const AUTH_SUMMARY = 'auth.succeeded.summary';

const RTC = '/rtc/bench-channel/publisher/uid/42/?expiry=600';
const AGORA_TOKEN: BodyCheck = { prefix: '{"rtcToken":"007' };

async function main(): Promise<void> {
  const pinning = detectPinning();
  const load0 = loadavg();
  if (databaseUrl) await createIfMissing(databaseUrl);
  process.stdout.write(`${header(pinning, await databaseKind())}\n`);

  const loader = new LoadRunner(pinning);
  let failures: string[];
  try {
    failures = await runAll(pinning, loader, load0);
  } finally {
    await loader.close();
  }
  if (failures.length) {
    process.stdout.write(`\nbench FAILED:\n${failures.map((f) => `  - ${f}`).join('\n')}\n`);
    process.exitCode = 1;
  }
}

/** The sample, then Roomkey; returns why the run fails (empty: it does not). */
async function runAll(pinning: Pinning, loader: LoadRunner, load0: number[]): Promise<string[]> {
  const results: Measured[] = [];
  results.push(await runSample(pinning, loader));

  if (databaseUrl) await emptyDatabase(databaseUrl);
  const server = startScript('roomkey-server', pinning.server, {
    BENCH_DATABASE_URL: databaseUrl ?? '',
    ROOMKEY_RATE_LIMIT_RED5_PER_IP: UNLIMITED,
    ROOMKEY_RATE_LIMIT_RED5_PER_TENANT: UNLIMITED,
    ROOMKEY_RATE_LIMIT_PRINCIPAL_PER_MINUTE: UNLIMITED,
    ROOMKEY_RATE_LIMIT_TENANT_PER_MINUTE: UNLIMITED,
  });
  let ledger: AuditLedger | undefined;
  let verification: Verification;
  let how = '';
  try {
    const { url, apiKey } = await nextMessage<{ url: string; apiKey: string }>(
      server,
      'Roomkey',
      180_000,
    );
    const authorization = basic(apiKey);
    const gql = client(url, authorization);
    const auditor = await gql<{
      createApiKey: { apiKey: { id: string; keyId: string }; secret: string };
    }>(
      'mutation { createApiKey(input: {name: "bench-auditor", role: ADMIN}) { apiKey { id keyId } secret } }',
    );
    const auditorGql = client(
      url,
      basic(`${auditor.createApiKey.apiKey.keyId}:${auditor.createApiKey.secret}`),
    );
    ledger = databaseUrl
      ? await sqlLedger(databaseUrl, 'demo')
      : graphqlLedger(auditorGql, auditor.createApiKey.apiKey.id);
    how = ledger.how;
    const scenarios = await roomkeyScenarios(gql);
    for (const s of scenarios) {
      results.push(
        await measure(url, authorization, s, loader, {
          ledger,
          rss: () => childRssMb(server, 'Roomkey'),
          cpu: () => childCpuMicros(server, 'Roomkey'),
          statements: () => statementsSent(url),
        }),
      );
    }
    verification = (
      await auditorGql<{ verifyAuditLog: Verification }>(
        '{ verifyAuditLog { ok checkedCount firstInvalidEventId reason } }',
      )
    ).verifyAuditLog;
  } finally {
    await ledger?.close();
    await stopChild(server);
  }

  return report(results, verification, how, load0);
}

async function runSample(pinning: Pinning, loader: LoadRunner): Promise<Measured> {
  const sample = await startServer(
    'agora-sample',
    pinning.server,
    {
      APP_ID: randomBytes(16).toString('hex'),
      APP_CERTIFICATE: randomBytes(16).toString('hex'),
      PORT: '0',
    },
    'Agora sample',
  );
  try {
    const scenario: Scenario = {
      key: 'sample',
      name: 'Agora sample GET /rtc (Express + agora-token)',
      method: 'GET',
      path: RTC,
      auth: false,
      check: AGORA_TOKEN,
    };
    return await measure(sample.url, '', scenario, loader, {
      rss: () => childRssMb(sample.child, 'Agora sample'),
      cpu: () => childCpuMicros(sample.child, 'Agora sample'),
    });
  } finally {
    await stopChild(sample.child);
  }
}

/** The sessions and the Red5 credential the scenarios use, created through GraphQL. */
async function roomkeyScenarios(gql: Gql): Promise<Scenario[]> {
  const session = async (provider: string, id: string): Promise<string> =>
    (
      await gql<{ createSession: { id: string } }>(
        `mutation { createSession(input: {provider: ${provider}, customSessionId: "${id}"}) { id } }`,
      )
    ).createSession.id;
  const red5Session = await session('RED5', 'bench-stream');
  const { createConnection } = await gql<{
    createConnection: { credential: { username: string; password: string; token: string } };
  }>(
    `mutation { createConnection(input: {sessionId: "${red5Session}", role: PUBLISHER}) { credential { ... on Red5Credential { username password token } } } }`,
  );
  const agoraSession = await session('AGORA', 'bench-graphql');
  const red5 = createConnection.credential;
  const t = '/t/demo';
  const scenarios: Scenario[] = [
    {
      key: 'compat',
      name: 'Roomkey Agora compat GET /rtc (API key)',
      method: 'GET',
      path: `${t}/agora${RTC}`,
      auth: true,
      check: AGORA_TOKEN,
      issuance: 'connection.created',
    },
    {
      key: 'red5',
      name: 'Roomkey Red5 validateCredentials (valid)',
      method: 'POST',
      path: `${t}/red5/validateCredentials`,
      body: {
        type: 'publisher',
        streamID: 'bench-stream',
        token: red5.token,
        username: red5.username,
        password: red5.password,
      },
      auth: false,
      check: { exact: '{"result":true}' },
      issuance: 'red5.validated',
    },
    {
      key: 'graphql',
      name: 'Roomkey GraphQL createConnection (Agora)',
      method: 'POST',
      path: '/graphql',
      body: {
        query: `mutation { createConnection(input: {sessionId: "${agoraSession}", role: PUBLISHER, ttlSeconds: 600, agora: {uid: 42}}) { id credential { ... on AgoraCredential { token } } } }`,
      },
      auth: true,
      check: { includes: '"token":"007', excludes: '"errors"' },
      issuance: 'connection.created',
    },
  ];
  if (!extra) return scenarios;
  const ovSession = await session('OPENVIDU', 'bench-room');
  return [
    ...scenarios,
    {
      key: 'livekit',
      name: 'Roomkey LiveKit sample POST /token',
      method: 'POST',
      path: `${t}/livekit/token`,
      body: { roomName: 'bench-room', participantName: 'alice' },
      auth: true,
      check: { prefix: '{"token":"ey' },
      issuance: 'connection.created',
    },
    {
      key: 'openvidu',
      name: 'Roomkey GraphQL createConnection (OpenVidu)',
      method: 'POST',
      path: '/graphql',
      body: {
        query: `mutation { createConnection(input: {sessionId: "${ovSession}"}) { id credential { ... on OpenViduCredential { token } } } }`,
      },
      auth: true,
      check: { includes: '"token":"ws', excludes: '"errors"' },
      issuance: 'connection.created',
    },
    {
      key: 'red5-denied',
      name: 'Roomkey Red5 validateCredentials (unknown)',
      method: 'POST',
      path: `${t}/red5/validateCredentials`,
      body: { type: 'publisher', streamID: 'bench-stream', token: 'x'.repeat(43) },
      auth: false,
      check: { exact: '{"result":false}' },
      issuance: 'red5.validated',
    },
  ];
}

/** Probe, warm up, settle the audit log, measure, settle again and count. */
async function measure(
  base: string,
  authorization: string,
  s: Scenario,
  loader: LoadRunner,
  probes: {
    ledger?: AuditLedger;
    rss?: () => Promise<number>;
    cpu?: () => Promise<number>;
    statements?: () => Promise<number>;
  } = {},
): Promise<Measured> {
  const { ledger, rss, cpu, statements } = probes;
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (s.auth) headers.authorization = authorization;
  const plan: Plan = {
    url: base + s.path,
    method: s.method,
    headers,
    body: s.body === undefined ? undefined : JSON.stringify(s.body),
    connections: protocol.connections,
    check: s.check,
    timeoutSeconds: 30,
  };
  await probe(s.name, plan);
  const warm = await warmUp(loader, plan, protocol);
  const from = await ledger?.settle();
  const [cpu0, sql0] = [await cpu?.(), await statements?.()];
  const result = await measuredRun(loader, plan, warm, protocol);
  const [cpu1, sql1] = [await cpu?.(), await statements?.()];
  const to = await ledger?.settle();
  const tally = ledger && from && to ? await ledger.tally(from, to) : undefined;
  const per = (a?: number, b?: number): number | null =>
    a === undefined || b === undefined || result.answers === 0 ? null : (b - a) / result.answers;
  const m: Measured = {
    scenario: s,
    load: result,
    rssMb: rss ? await rss() : null,
    cpuPerAnswer: per(cpu0, cpu1),
    sqlPerAnswer: per(sql0, sql1),
    tally,
  };
  process.stdout.write(`${scenarioRow(m)}\n`);
  return m;
}

interface Verification {
  ok: boolean;
  checkedCount: number;
  firstInvalidEventId: string | null;
  reason: string | null;
}

/** `roomkey_db_statements_total` from the server's `/metrics`. */
async function statementsSent(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const m = /^roomkey_db_statements_total (\d+)/m.exec(text);
  if (!m) throw new Error('roomkey_db_statements_total is missing from /metrics');
  return Number(m[1]);
}

const basic = (userPass: string): string => `Basic ${Buffer.from(userPass).toString('base64')}`;

function client(url: string, authorization: string): Gql {
  return async <T>(query: string, variables: Record<string, unknown> = {}): Promise<T> => {
    const res = await fetch(`${url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization },
      body: JSON.stringify({ query, variables }),
    });
    const answer = (await res.json()) as { data?: T; errors?: unknown };
    if (answer.errors || !answer.data)
      throw new Error(`GraphQL failed: ${JSON.stringify(answer.errors)}`);
    return answer.data;
  };
}

// ---- output ----

const COLUMNS: Array<[string, number]> = [
  ['scenario', 46],
  ['req/s', 9],
  ['p50 ms', 8],
  ['p99 ms', 8],
  ['max ms', 8],
  ['errors', 8],
  ['non-2xx', 8],
  ['bad', 6],
  ['answers', 9],
  ['s', 6],
  ['RSS MB', 8],
  ['CPU µs/req', 12],
  ['SQL/req', 9],
];

function row(cells: string[]): string {
  return cells
    .map((c, i) => (i === 0 ? c.padEnd(COLUMNS[i][1]) : c.padStart(COLUMNS[i][1])))
    .join('');
}

function scenarioRow({ scenario, load: r, rssMb, cpuPerAnswer, sqlPerAnswer }: Measured): string {
  return row([
    scenario.name,
    r.reqPerSec.toFixed(0),
    String(r.p50),
    String(r.p99),
    String(r.max),
    String(r.errors),
    String(r.non2xx),
    String(r.badBodies),
    String(r.answers),
    r.seconds.toFixed(1),
    rssMb === null ? '-' : rssMb.toFixed(0),
    cpuPerAnswer === null ? '-' : cpuPerAnswer.toFixed(0),
    sqlPerAnswer === null ? '-' : sqlPerAnswer.toFixed(2),
  ]);
}

async function databaseKind(): Promise<string> {
  if (!databaseUrl) return 'embedded PGlite (in memory, inside the Roomkey process)';
  const c = new Client({ connectionString: databaseUrl });
  await c.connect();
  try {
    const { rows } = await c.query<{ server_version: string }>('SHOW server_version');
    const u = new URL(databaseUrl);
    return `PostgreSQL ${rows[0].server_version} (${u.host}${u.pathname}, not pinned)`;
  } finally {
    await c.end();
  }
}

function header(pinning: Pinning, database: string): string {
  return [
    'Roomkey hot paths — the protocol of docs/decisions.md#issue-11',
    `command:   ${commandLine()}`,
    `node:      ${process.version}   commit: ${commit()}`,
    `database:  ${database}`,
    `pinning:   ${pinning.note}`,
    `load:      ${protocolLine(protocol)}`,
    `machine:   load average ${loadAverage()} at start (other work on the machine shows here)`,
    '',
    row(COLUMNS.map(([c]) => c)),
  ].join('\n');
}

const clean = (m: Measured): boolean => cleanRun(m.load);

/** Prints the ratio and audit tables; returns why the run fails (empty: it does not). */
function report(
  results: Measured[],
  verification: Verification,
  how: string,
  load0: number[],
): string[] {
  const out: string[] = [];
  const failures: string[] = [];
  const by = (k: Key): Measured | undefined => results.find((m) => m.scenario.key === k);
  const sample = by('sample');
  const compat = by('compat');
  const red5 = by('red5');
  const graphql = by('graphql');
  const targets = databaseUrl !== undefined;
  const rate = (m?: Measured): number => m?.load.reqPerSec ?? 0;
  const verdict = (pass: boolean, ...ms: Array<Measured | undefined>): string =>
    !targets ? 'no target' : pass && ms.every((m) => m && clean(m)) ? 'PASS' : 'MISS';
  const ratio = (a: number, b: number): string => (b > 0 ? `${(a / b).toFixed(2)}x` : 'n/a');
  const checks: Array<[string, string, string, string]> = [
    [
      'Agora compat / sample, req/s',
      `${ratio(rate(compat), rate(sample))} (${rate(compat).toFixed(0)} / ${rate(sample).toFixed(0)})`,
      '>= 1.0x',
      verdict(rate(compat) >= rate(sample), compat, sample),
    ],
    [
      'Agora compat p99',
      `${compat?.load.p99 ?? '-'} ms`,
      '<= 20 ms',
      verdict((compat?.load.p99 ?? Infinity) <= 20, compat),
    ],
    [
      'Red5 validateCredentials, req/s',
      rate(red5).toFixed(0),
      '>= 5,000',
      verdict(rate(red5) >= 5000, red5),
    ],
    [
      'Red5 validateCredentials p99',
      `${red5?.load.p99 ?? '-'} ms`,
      '<= 10 ms',
      verdict((red5?.load.p99 ?? Infinity) <= 10, red5),
    ],
    [
      'GraphQL createConnection / compat, req/s',
      `${ratio(rate(graphql), rate(compat))} (${rate(graphql).toFixed(0)} / ${rate(compat).toFixed(0)})`,
      '>= 0.5x',
      verdict(rate(graphql) >= 0.5 * rate(compat), graphql, compat),
    ],
  ];
  out.push(
    '',
    `Targets (${targets ? 'PostgreSQL: the issue targets; PASS also needs no errors, non-2xx or bad answers' : 'embedded PGlite: reported, no target'})`,
    `${'check'.padEnd(42)}${'measured'.padEnd(26)}${'target'.padEnd(11)}result`,
    ...checks.map(
      ([c, m, t, r]) => `${c.padEnd(42)}${m.padEnd(26)}${(targets ? t : '-').padEnd(11)}${r}`,
    ),
  );

  out.push('', `Audit: issuance events appended vs 2xx answers (${how})`);
  for (const m of results) {
    if (m.load.badBodies)
      failures.push(
        `${m.scenario.name}: ${m.load.badBodies} answers with a wrong body, e.g. ${m.load.firstBadBody}`,
      );
    if (!m.scenario.issuance || !m.tally) continue;
    const issued = m.tally.byAction.get(m.scenario.issuance) ?? 0;
    const same = issued === m.load.s2xx;
    const all = [...m.tally.byAction.entries()].sort((a, b) => b[1] - a[1]);
    const total = all.reduce((n, [, c]) => n + c, 0);
    out.push(
      `  ${m.scenario.name.padEnd(44)} 2xx ${String(m.load.s2xx).padStart(7)}  ${m.scenario.issuance.padEnd(18)} ${String(issued).padStart(7)}  ${same ? 'OK' : 'DIFFERS'}`,
      `  ${''.padEnd(44)} all events appended: ${total} (${all.map(([a, c]) => `${a} ${c}`).join(', ') || 'none'})${m.tally.otherChains === null ? '' : `; other chains ${m.tally.otherChains}`}`,
    );
    if (!same)
      failures.push(
        `${m.scenario.name}: ${issued} ${m.scenario.issuance} events for ${m.load.s2xx} 2xx answers`,
      );
    // One event per issuance: besides it, only the per-minute sign-in summaries may appear.
    const extra = all.filter(([a]) => a !== m.scenario.issuance && a !== AUTH_SUMMARY);
    if (extra.length)
      failures.push(
        `${m.scenario.name}: appended ${extra.map(([a, c]) => `${c} ${a}`).join(', ')} besides its issuance events`,
      );
  }
  out.push(
    `  verifyAuditLog: ok=${verification.ok} checkedCount=${verification.checkedCount}${verification.ok ? '' : ` reason=${verification.reason} firstInvalidEventId=${verification.firstInvalidEventId}`}`,
    '',
    `load average ${loadAverage(load0)} at start, ${loadAverage()} at end`,
  );
  if (!verification.ok) failures.push(`the tenant's audit chain does not verify`);
  process.stdout.write(`${out.join('\n')}\n`);
  return failures;
}

main().catch((err: unknown) => {
  process.stderr.write(
    `bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  process.exit(1);
});
