import { type ChildProcessWithoutNullStreams, execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

export const ROOT = path.join(__dirname, '..', '..');
/** Set by test/support/global-setup.ts: names this suite run. */
export const RUN_ID_ENV = 'ROOMKEY_TEST_RUN_ID';

/** The built server (dist/src/main.js) running as a child process. */
export interface ServerProcess {
  proc: ChildProcessWithoutNullStreams;
  port: number;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Ports handed to server processes, below Linux's ephemeral range (32768 and up). A port the kernel
 * picks for `listen(0)` comes from that range, which every outgoing connection draws from too:
 * between this check and the server's own listen, a test's connection to PostgreSQL could take it
 * (a CI run failed with EADDRINUSE so). Here only another check could, at random.
 */
const PORTS = { from: 20_000, to: 32_000 };

function tryListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

export async function freePort(): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const port = PORTS.from + Math.floor(Math.random() * (PORTS.to - PORTS.from));
    if (await tryListen(port)) return port;
  }
  throw new Error(`no free port between ${PORTS.from} and ${PORTS.to} in 50 tries`);
}

const sleepSync = (ms: number): void => {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
};

/**
 * The incremental build (scripts/compile.cjs, as `npm start` runs it), one spec at a time: two
 * test workers compiling into the same dist/ at once could start a server from a half-written
 * file. A lock folder serialises them, and a marker named after the suite run
 * (test/support/global-setup.ts) lets the first build serve every later spec.
 */
export function buildServer(): void {
  const runId = process.env[RUN_ID_ENV];
  const marker = runId ? path.join(os.tmpdir(), `roomkey-built-${runId}`) : undefined;
  if (marker && fs.existsSync(marker)) return;
  const lock = path.join(
    os.tmpdir(),
    `roomkey-build-${Buffer.from(ROOT).toString('hex').slice(-24)}`,
  );
  const deadline = Date.now() + 300_000;
  for (;;) {
    try {
      fs.mkdirSync(lock);
      break;
    } catch {
      // A lock older than the longest build is left over from a killed run.
      const age =
        Date.now() - (fs.statSync(lock, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
      if (age > 240_000) fs.rmSync(lock, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error(`build lock ${lock} never freed`);
      sleepSync(200);
    }
  }
  try {
    if (marker && fs.existsSync(marker)) return; // built by another worker while this one waited
    execFileSync(process.execPath, ['scripts/compile.cjs'], {
      cwd: ROOT,
      stdio: 'pipe',
      timeout: 180_000,
    });
    if (marker) fs.writeFileSync(marker, '');
  } catch (err) {
    const e = err as { stdout?: Buffer; stderr?: Buffer };
    throw new Error(
      `scripts/compile.cjs failed:\n${String(e.stdout ?? '')}${String(e.stderr ?? '')}`,
    );
  } finally {
    fs.rmSync(lock, { recursive: true, force: true });
  }
}

/**
 * Starts dist/src/main.js on a free port with `env` on top of the test defaults. DATABASE_URL is
 * taken only from `env` (the caller decides the database), never inherited.
 */
export async function spawnServer(env: Record<string, string>): Promise<ServerProcess> {
  const port = await freePort();
  const full: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_ENV: 'test',
    LOG_LEVEL: 'info',
    HOST: '127.0.0.1',
    PORT: String(port),
  };
  delete full.DATABASE_URL;
  delete full.NODE_OPTIONS;
  Object.assign(full, env);
  const proc = spawn(process.execPath, ['dist/src/main.js'], { cwd: ROOT, env: full });
  let out = '';
  proc.stdout.on('data', (d: Buffer) => (out += d.toString('utf8')));
  proc.stderr.on('data', (d: Buffer) => (out += d.toString('utf8')));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.on('exit', (code, signal) => resolve({ code, signal })),
  );
  return { proc, port, output: () => out, exited };
}

export async function waitReady(s: ServerProcess, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exitedEarly = false;
  void s.exited.then(() => (exitedEarly = true));
  while (Date.now() < deadline && !exitedEarly) {
    try {
      const res = await fetch(`http://127.0.0.1:${s.port}/health/ready`);
      if (res.status === 200) return;
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`server did not become ready:\n${s.output().slice(-3000)}`);
}

/** Kills the process if it is still running (afterAll safety net). */
export async function killServer(s: ServerProcess | undefined): Promise<void> {
  if (s && s.proc.exitCode === null && s.proc.signalCode === null) {
    s.proc.kill('SIGKILL');
    await s.exited;
  }
}
