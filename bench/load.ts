/**
 * The load generator of `npm run bench`, in its own process so that autocannon's work never runs
 * on the server's core (the parent pins it to the other one). For each {@link LoadPlan} it receives
 * over IPC it runs autocannon, checks every answer's body and sends back a {@link LoadResult}.
 *
 * Runs are a number of requests, never a duration: every request sent is answered before the run
 * ends, so nothing is abandoned in flight and the server's audit log can be compared exactly with
 * the answers counted here (a duration-bound run destroys its connections at the deadline, with up
 * to one request each still being served — and clients leaving mid-request is a load of its own).
 * Throughput is answers over the time from the start to the last answer.
 */
import { type EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import autocannon from 'autocannon';

/** What every answer's body must be (all given conditions hold). */
export interface BodyCheck {
  exact?: string;
  prefix?: string;
  includes?: string;
  excludes?: string;
}

export interface LoadPlan {
  url: string;
  method: 'GET' | 'POST';
  headers: Record<string, string>;
  body?: string;
  connections: number;
  /** Requests to send, every one of them answered before the run ends. */
  amount: number;
  check: BodyCheck;
  timeoutSeconds: number;
}

export interface LoadResult {
  answers: number;
  s2xx: number;
  non2xx: number;
  /** Connection errors and timeouts. */
  errors: number;
  /** Answers whose body fails the check. */
  badBodies: number;
  firstBadBody: string | null;
  seconds: number;
  reqPerSec: number;
  p50: number;
  p99: number;
  max: number;
}

export function bodyMatches(check: BodyCheck, body: string): boolean {
  return (
    (check.exact === undefined || body === check.exact) &&
    (check.prefix === undefined || body.startsWith(check.prefix)) &&
    (check.includes === undefined || body.includes(check.includes)) &&
    (check.excludes === undefined || !body.includes(check.excludes))
  );
}

async function run(plan: LoadPlan): Promise<LoadResult> {
  let answers = 0;
  let last = 0;
  let firstBadBody: string | null = null;
  const start = performance.now();
  const r = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: plan.url,
        method: plan.method,
        headers: plan.headers,
        body: plan.body,
        connections: plan.connections,
        amount: plan.amount,
        timeout: plan.timeoutSeconds,
        verifyBody: (body) => bodyMatches(plan.check, String(body ?? '')),
      },
      (err, result) =>
        err ? reject(err instanceof Error ? err : new Error(String(err))) : resolve(result),
    );
    const events = instance as unknown as EventEmitter;
    events.on('response', () => {
      answers++;
      last = performance.now();
    });
    events.on('reqMismatch', (body: unknown) => {
      firstBadBody ??= String(body).slice(0, 300);
    });
  });
  const seconds = ((last || performance.now()) - start) / 1000;
  return {
    answers,
    s2xx: r['2xx'],
    non2xx: r.non2xx,
    errors: r.errors,
    badBodies: r.mismatches,
    firstBadBody,
    seconds,
    reqPerSec: seconds > 0 ? answers / seconds : 0,
    p50: r.latency.p50,
    p99: r.latency.p99,
    max: r.latency.max,
  };
}

if (require.main === module) {
  // One plan at a time, for as long as the parent keeps the channel open: the same process (and
  // its warmed-up JIT) serves a scenario's warm-up and measured runs.
  process.on('message', (plan: LoadPlan) => {
    run(plan).then(
      (result) => process.send?.(result),
      (err: unknown) => {
        process.stderr.write(`load failed: ${err instanceof Error ? err.message : String(err)}\n`);
        process.exit(1);
      },
    );
  });
  process.on('disconnect', () => process.exit(0));
}
