/**
 * `npm run bench:floor`: the framework floor. In one run, with the protocol of `npm run bench`
 * (bench/protocol.ts: each server alone in its own process on core 0, autocannon in another on
 * core 1, BENCH_CONNECTIONS connections, a probe, a warm-up until the rate settles, then about
 * BENCH_SECONDS of load sized as a request count so every request is answered), the same trivial
 * handler — the Agora token service sample's RTC route (bench/agora-rtc.ts), minting a token with
 * `agora-token` from fixed test inputs and answering JSON with the no-cache headers — served by:
 *   1. the Express 5 replica of the sample (bench/agora-sample.ts), the baseline;
 *   2. NestJS 11 on its Express adapter (minimal module, one controller, no guards);
 *   3. NestJS 11 on `@nestjs/platform-fastify` (Fastify 5);
 *   4. plain `node:http`;
 * and the same token behind one GraphQL mutation (POST /graphql, bench/framework-floor-graphql.ts):
 *   5. Apollo Server 5 on Express 5, no Nest;
 *   6. NestJS 11 + @nestjs/apollo 13, code-first, one resolver — Roomkey's stack at its least;
 *   7. the same with one global guard, interceptor and ValidationPipe (class-validator input).
 * Rows 5-7 are the floor under Roomkey's GraphQL createConnection: what the stack costs before
 * any authentication, database or audit work.
 * Prints req/s, the ratio to the sample, mean µs per request (1e6 / req/s: wall time of the
 * server's one core per answer at saturation), the server process's CPU µs per answer over the
 * measured run (user + system, from process.cpuUsage: time spent waiting for the core is left
 * out, not the slowdown of sharing it), latencies, errors, non-2xx, wrong bodies and the server's RSS. A server with any
 * error, non-2xx or wrong body is flagged and the run exits 1.
 */
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import {
  type Pinning,
  LoadRunner,
  childCpuMicros,
  childRssMb,
  detectPinning,
  startServer,
  stopChild,
} from './bench-processes';
import { RTC_MUTATION } from './agora-rtc';
import { type LoadResult } from './load';
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

/** Fixed test inputs (not a real project): every server mints for the same app. */
const APP = {
  APP_ID: '970ca35de60c44645bbae8a215061b33',
  APP_CERTIFICATE: '5cfd2fd1755d40ecb72977518be15d3b',
};
const RTC = '/rtc/bench-channel/publisher/uid/42/?expiry=600';

interface Floor {
  name: string;
  script: string;
  env: Record<string, string>;
  /** Served as the GraphQL mutation RTC_MUTATION (POST /graphql) instead of GET RTC. */
  graphql?: true;
}

const FLOORS: Floor[] = [
  { name: 'Express 5 (Agora sample replica)', script: 'agora-sample', env: { PORT: '0' } },
  {
    name: 'NestJS 11 + Express adapter',
    script: 'framework-floor-server',
    env: { FLOOR_SERVER: 'nest-express' },
  },
  {
    name: 'NestJS 11 + Fastify adapter',
    script: 'framework-floor-server',
    env: { FLOOR_SERVER: 'nest-fastify' },
  },
  { name: 'node:http', script: 'framework-floor-server', env: { FLOOR_SERVER: 'node-http' } },
  {
    name: 'GraphQL: Apollo 5 + Express 5',
    script: 'framework-floor-server',
    env: { FLOOR_SERVER: 'apollo-express' },
    graphql: true,
  },
  {
    name: 'GraphQL: NestJS 11 + Apollo',
    script: 'framework-floor-server',
    env: { FLOOR_SERVER: 'nest-apollo' },
    graphql: true,
  },
  {
    name: 'GraphQL: Nest + guard/pipe/icpt',
    script: 'framework-floor-server',
    env: { FLOOR_SERVER: 'nest-apollo-guarded' },
    graphql: true,
  },
];

interface Measured {
  floor: Floor;
  load: LoadResult;
  /** The server process's CPU time (user + system) over the measured run, µs per answer. */
  cpuUs: number;
  rssMb: number;
}

async function main(): Promise<void> {
  const pinning = detectPinning();
  const load0 = loadavg();
  process.stdout.write(`${header(pinning)}\n`);
  const loader = new LoadRunner(pinning);
  const results: Measured[] = [];
  try {
    for (const floor of FLOORS) {
      const m = await measure(floor, pinning, loader);
      results.push(m);
      process.stdout.write(`${floorRow(m, results[0])}\n`);
    }
  } finally {
    await loader.close();
  }
  const flagged = results.filter((m) => !cleanRun(m.load));
  const out = [
    '',
    "µs/req = 1,000,000 / req/s: wall time of the server's one core per answer at saturation (other work on that core counts too).",
    "CPU µs/req: the server process's own CPU time (user + system) over the measured run, per answer.",
    `load average ${loadAverage(load0)} at start, ${loadAverage()} at end`,
  ];
  if (flagged.length) {
    out.push(
      '',
      'bench:floor FAILED (flagged rows):',
      ...flagged.map(
        ({ floor, load: r }) =>
          `  - ${floor.name}: ${r.errors} errors, ${r.non2xx} non-2xx, ${r.badBodies} wrong bodies${r.firstBadBody ? `, e.g. ${r.firstBadBody}` : ''}`,
      ),
    );
    process.exitCode = 1;
  }
  process.stdout.write(`${out.join('\n')}\n`);
}

/** Starts the server alone on the server core, runs the protocol against it, stops it. */
async function measure(floor: Floor, pinning: Pinning, loader: LoadRunner): Promise<Measured> {
  const server = await startServer(
    floor.script,
    pinning.server,
    { ...APP, ...floor.env },
    floor.name,
  );
  try {
    const plan: Plan = floor.graphql
      ? {
          url: `${server.url}/graphql`,
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ query: RTC_MUTATION }),
          connections: protocol.connections,
          check: { includes: '"rtcToken":"007', excludes: '"errors"' },
          timeoutSeconds: 30,
        }
      : {
          url: server.url + RTC,
          method: 'GET',
          headers: {},
          connections: protocol.connections,
          check: { prefix: '{"rtcToken":"007' },
          timeoutSeconds: 30,
        };
    await probe(floor.name, plan);
    const warm = await warmUp(loader, plan, protocol);
    const cpu0 = await childCpuMicros(server.child, floor.name);
    const load = await measuredRun(loader, plan, warm, protocol);
    const cpu1 = await childCpuMicros(server.child, floor.name);
    const cpuUs = load.answers > 0 ? (cpu1 - cpu0) / load.answers : NaN;
    return { floor, load, cpuUs, rssMb: await childRssMb(server.child, floor.name) };
  } finally {
    await stopChild(server.child);
  }
}

// ---- output ----

const COLUMNS: Array<[string, number]> = [
  ['server (same handler)', 34],
  ['req/s', 9],
  ['vs sample', 11],
  ['µs/req', 9],
  ['CPU µs/req', 12],
  ['p50 ms', 8],
  ['p99 ms', 8],
  ['max ms', 8],
  ['errors', 8],
  ['non-2xx', 8],
  ['bad', 6],
  ['answers', 9],
  ['s', 6],
  ['RSS MB', 8],
  ['', 9],
];

function row(cells: string[]): string {
  return cells
    .map((c, i) => (i === 0 ? c.padEnd(COLUMNS[i][1]) : c.padStart(COLUMNS[i][1])))
    .join('');
}

function floorRow({ floor, load: r, cpuUs, rssMb }: Measured, sample: Measured): string {
  const base = sample.load.reqPerSec;
  return row([
    floor.name,
    r.reqPerSec.toFixed(0),
    base > 0 ? `${(r.reqPerSec / base).toFixed(2)}x` : 'n/a',
    r.reqPerSec > 0 ? (1e6 / r.reqPerSec).toFixed(0) : '-',
    Number.isFinite(cpuUs) ? cpuUs.toFixed(0) : '-',
    String(r.p50),
    String(r.p99),
    String(r.max),
    String(r.errors),
    String(r.non2xx),
    String(r.badBodies),
    String(r.answers),
    r.seconds.toFixed(1),
    rssMb.toFixed(0),
    cleanRun(r) ? '' : 'FLAGGED',
  ]);
}

function version(pkg: string): string {
  try {
    const json = readFileSync(require.resolve(`${pkg}/package.json`), 'utf8');
    return (JSON.parse(json) as { version: string }).version;
  } catch {
    return '?';
  }
}

function header(pinning: Pinning): string {
  const versions = [
    'express',
    '@nestjs/core',
    '@nestjs/platform-express',
    '@nestjs/platform-fastify',
    'fastify',
    'agora-token',
    'autocannon',
  ]
    .map((p) => `${p} ${version(p)}`)
    .join(', ');
  return [
    'Roomkey framework floor — one Agora-token handler on four stacks',
    `command:   ${commandLine()}`,
    `node:      ${process.version}   commit: ${commit()}`,
    `versions:  ${versions}`,
    `request:   GET ${RTC} (fixed test app id and certificate; answer {"rtcToken":"007…"} + no-cache headers)`,
    `pinning:   ${pinning.note}`,
    `load:      ${protocolLine(protocol)}`,
    `machine:   load average ${loadAverage()} at start (other work on the machine shows here)`,
    '',
    row(COLUMNS.map(([c]) => c)),
  ].join('\n');
}

main().catch((err: unknown) => {
  process.stderr.write(
    `bench:floor failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  process.exit(1);
});
