/**
 * The measurement protocol shared by `npm run bench` and `npm run bench:floor`: per scenario one
 * probe, a warm-up in short steps until the rate settles, then a measured run sized as a number of
 * requests from the warm-up's rate (every request sent is answered: see bench/load.ts); and the
 * run's description (command, Node, commit, load average) printed above every table.
 *
 * BENCH_SECONDS (default 10), BENCH_WARMUP_SECONDS (2), BENCH_CONNECTIONS (50) tune it.
 */
import { execFileSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { relative } from 'node:path';
import { type LoadRunner } from './bench-processes';
import { type LoadPlan, type LoadResult, bodyMatches } from './load';

export interface Protocol {
  /** Length of the measured run (as a request count sized from the warm-up's rate). */
  seconds: number;
  warmupSeconds: number;
  connections: number;
}

export function protocolFromEnv(): Protocol {
  return {
    seconds: Number(process.env.BENCH_SECONDS ?? 10),
    warmupSeconds: Number(process.env.BENCH_WARMUP_SECONDS ?? 2),
    connections: Number(process.env.BENCH_CONNECTIONS ?? 50),
  };
}

/** A scenario's load: everything but the request count, which each step sets. */
export type Plan = Omit<LoadPlan, 'amount'>;

/** One request before any load: the scenario must answer 2xx with the expected body. */
export async function probe(name: string, plan: Plan): Promise<void> {
  const res = await fetch(plan.url, {
    method: plan.method,
    headers: plan.headers,
    body: plan.body,
  });
  const text = await res.text();
  if (!res.ok || !bodyMatches(plan.check, text))
    throw new Error(`${name}: unexpected answer ${res.status} ${text.slice(0, 300)}`);
}

/**
 * Warm-up in steps of about half of `warmupSeconds`, each sized from the previous one's rate,
 * until the rate settles (within 25 %, 2 to 4 steps after a first short one). Returns the last
 * step, whose rate sizes the measured run.
 */
export async function warmUp(loader: LoadRunner, plan: Plan, p: Protocol): Promise<LoadResult> {
  let warm = await loader.run({ ...plan, amount: p.connections * 4 });
  for (let step = 0; step < 4; step++) {
    const amount = Math.max(p.connections * 4, Math.round((warm.reqPerSec * p.warmupSeconds) / 2));
    const next = await loader.run({ ...plan, amount });
    const settled = Math.abs(next.reqPerSec - warm.reqPerSec) <= 0.25 * warm.reqPerSec;
    warm = next;
    if (settled && step > 0) break;
  }
  return warm;
}

/** The measured run: about `seconds` at the warm-up's rate, every request answered. */
export function measuredRun(
  loader: LoadRunner,
  plan: Plan,
  warm: LoadResult,
  p: Protocol,
): Promise<LoadResult> {
  const amount = Math.max(p.connections * 10, Math.round(warm.reqPerSec * p.seconds));
  return loader.run({ ...plan, amount });
}

/** No connection error or timeout, no non-2xx answer, no answer with a wrong body. */
export const cleanRun = (r: LoadResult): boolean =>
  r.errors === 0 && r.non2xx === 0 && r.badBodies === 0;

/** How the run was started: the BENCH_* settings (URL passwords redacted) and the command. */
export function commandLine(): string {
  const envs = Object.entries(process.env)
    .filter(([k, v]) => k.startsWith('BENCH_') && v)
    .map(([k, v]) => `${k}=${k === 'BENCH_DATABASE_URL' ? redact(String(v)) : v}`);
  const npm = process.env.npm_lifecycle_event;
  const node = `node ${relative(process.cwd(), process.argv[1])}`;
  return `${[...envs, npm ? `npm run ${npm}` : node].join(' ')}${npm ? `  (${node})` : ''}`;
}

export function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparsable URL)';
  }
}

export function commit(): string {
  try {
    const sha = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], {
      encoding: 'utf8',
    }).trim();
    return dirty ? `${sha} + uncommitted changes` : sha;
  } catch {
    return 'unknown';
  }
}

export const loadAverage = (l: number[] = loadavg()): string =>
  l.map((x) => x.toFixed(2)).join(' ');

/** The protocol in one line, for the header. */
export function protocolLine(p: Protocol): string {
  return `${p.connections} connections; per scenario a warm-up (2-4 steps of ~${p.warmupSeconds / 2} s, until the rate settles), then ~${p.seconds} s (a request count sized from the warm-up rate: every request answered)`;
}
