import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { type Server } from 'node:http';
import { type AddressInfo } from 'node:net';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { type LoadPlan, type LoadResult } from './load';

/** Where the bench puts its processes: servers on core 0, the load generator on core 1. */
export interface Pinning {
  server: number | null;
  load: number | null;
  note: string;
}

export function detectPinning(): Pinning {
  const cores = availableParallelism();
  if (cores < 2) {
    return { server: null, load: null, note: `not pinned (${cores} core available)` };
  }
  const probe = spawnSync('taskset', ['-c', '1', 'true'], { stdio: 'ignore' });
  if (probe.error || probe.status !== 0) {
    return {
      server: null,
      load: null,
      note: 'NOT PINNED: taskset is missing or refused, servers and autocannon share the cores',
    };
  }
  return {
    server: 0,
    load: 1,
    note: `servers taskset -c 0 (one at a time), autocannon taskset -c 1; ${cores} cores`,
  };
}

/**
 * Starts a compiled bench script (dist/bench/<name>.js) as a child with an IPC channel, on one
 * core when `core` is set (taskset replaces itself with node, so the child's pid is node's).
 */
export function startScript(
  name: string,
  core: number | null,
  env: Record<string, string | undefined> = {},
): ChildProcess {
  const script = join(__dirname, `${name}.js`);
  const [cmd, args] =
    core === null
      ? [process.execPath, [script]]
      : ['taskset', ['-c', String(core), process.execPath, script]];
  return spawn(cmd, args, {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
}

/** The child's next IPC message; fails if it exits first or stays silent for `timeoutMs`. */
export function nextMessage<T>(child: ChildProcess, what: string, timeoutMs: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const done = (): void => {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    const onMessage = (m: unknown): void => {
      done();
      resolve(m as T);
    };
    const onExit = (code: number | null, signal: string | null): void => {
      done();
      reject(new Error(`${what} exited (${signal ?? `code ${code}`}) before answering`));
    };
    const timer = setTimeout(() => {
      done();
      reject(new Error(`${what} did not answer within ${timeoutMs / 1000} s`));
    }, timeoutMs);
    child.on('message', onMessage);
    child.on('exit', onExit);
  });
}

/** Asks a child to stop (it stops when its IPC channel closes), then kills it if it lingers. */
export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  if (child.connected) child.disconnect();
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

/** autocannon in its own process (bench/load.ts) on the load core, kept for several runs. */
export class LoadRunner {
  private readonly child: ChildProcess;

  constructor(pinning: Pinning) {
    this.child = startScript('load', pinning.load);
  }

  run(plan: LoadPlan): Promise<LoadResult> {
    const answer = nextMessage<LoadResult>(this.child, 'autocannon runner', 15 * 60_000);
    this.child.send(plan);
    return answer;
  }

  close(): Promise<void> {
    return stopChild(this.child);
  }
}

/**
 * The server side of {@link startScript} for a listening HTTP server: reports `{port}` to the
 * parent (or prints the address when started by hand), answers `'rss'` with its resident memory
 * and `'cpu'` with its CPU time so far (process.cpuUsage, µs), and stops when the parent disconnects or on SIGTERM/SIGINT.
 */
export function serveForParent(what: string, server: Server): void {
  const { port } = server.address() as AddressInfo;
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    server.close(() => process.exit(0));
    server.closeAllConnections();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.on('disconnect', stop);
  answerUsage();
  if (process.send) process.send({ port });
  else process.stdout.write(`${what} on http://127.0.0.1:${port}\n`);
}

/** In a server child: answers the parent's `'rss'` (resident memory) and `'cpu'` (CPU time, µs). */
export function answerUsage(): void {
  process.on('message', (m) => {
    if (m === 'rss') process.send?.({ rss: process.memoryUsage().rss });
    if (m === 'cpu') process.send?.({ cpu: process.cpuUsage() });
  });
}

/** Starts a script that calls {@link serveForParent}; resolves with its base URL once it listens. */
export async function startServer(
  name: string,
  core: number | null,
  env: Record<string, string | undefined>,
  what: string,
): Promise<{ child: ChildProcess; url: string }> {
  const child = startScript(name, core, env);
  try {
    const { port } = await nextMessage<{ port: number }>(child, what, 60_000);
    return { child, url: `http://127.0.0.1:${port}` };
  } catch (err) {
    await stopChild(child);
    throw err;
  }
}

/** The resident memory of a child that calls {@link answerUsage}, in MB. */
export async function childRssMb(child: ChildProcess, what: string): Promise<number> {
  const answer = nextMessage<{ rss: number }>(child, what, 10_000);
  child.send('rss');
  return (await answer).rss / 1024 / 1024;
}

/** The CPU time (user + system, µs) a child that calls {@link answerUsage} has used so far. */
export async function childCpuMicros(child: ChildProcess, what: string): Promise<number> {
  const answer = nextMessage<{ cpu: NodeJS.CpuUsage }>(child, what, 10_000);
  child.send('cpu');
  const { cpu } = await answer;
  return cpu.user + cpu.system;
}
