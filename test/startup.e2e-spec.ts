import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client } from 'pg';
import { durableDatabase } from './helpers/database';
import {
  type ServerProcess,
  buildServer,
  freePort,
  killServer,
  spawnServer,
  waitReady,
} from './helpers/server-process';
import { TEST_AUDIT_KEYS, TEST_MASTER_KEYS, basic } from './helpers/test-app';

// The built server as a real process: the order of a start (configuration, port, database, first
// administrator, banner) and how each kind of failed start is reported.

const BOOTSTRAP_EMAIL = 'owner@startup.test';

/** Loaded into the server with --require: reports at exit whether Nest was ever loaded. */
const PROBE = `process.on('exit', () => {
  const nest = Object.keys(require.cache).some((f) => f.includes('@nestjs/core'));
  process.stderr.write('probe: nest loaded=' + nest + '\\n');
});
`;

interface JsonLine {
  level: number;
  time: number;
  msg: string;
  context?: string;
  errorCode?: string;
  req?: unknown;
}

function jsonLines(output: string): JsonLine[] {
  return output
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as JsonLine);
}

/** Lines that are neither JSON logs nor the probe's report: the banners. */
function textLines(output: string): string[] {
  return output
    .split('\n')
    .filter((l) => l !== '' && !l.startsWith('{') && !l.startsWith('probe:'));
}

async function exitOf(s: ServerProcess): Promise<{ code: number | null; output: string }> {
  const { code } = await s.exited;
  return { code, output: s.output() };
}

/** A listening socket holding a port, as another program would. */
async function occupyPort(): Promise<{ port: number; close: () => Promise<void> }> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return { port, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** PostgreSQL's wire format for an ErrorResponse (severity FATAL, the given SQLSTATE). */
function pgError(sqlState: string, message: string): Buffer {
  const fields = Buffer.concat([
    ...[
      ['S', 'FATAL'],
      ['V', 'FATAL'],
      ['C', sqlState],
      ['M', message],
    ].map(([k, v]) => Buffer.from(`${k}${v}\0`, 'utf8')),
    Buffer.from([0]),
  ]);
  const head = Buffer.alloc(5);
  head.write('E', 0);
  head.writeInt32BE(fields.length + 4, 1);
  return Buffer.concat([head, fields]);
}

/**
 * A server that speaks just enough of PostgreSQL's protocol to refuse: each connection's startup
 * message is answered with the next error of `answers` (the last one repeats), then closed.
 */
async function refusingPostgres(
  answers: Array<[string, string]>,
): Promise<{ port: number; connections: () => number; close: () => Promise<void> }> {
  let connections = 0;
  const server = net.createServer((socket) => {
    const [sqlState, message] = answers[Math.min(connections, answers.length - 1)];
    connections++;
    socket.once('data', () => socket.end(pgError(sqlState, message)));
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    port,
    connections: () => connections,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** How many users a database holds; 0 when not even the schema was created. */
async function userCount(env: Record<string, string>): Promise<number> {
  if (!env.DATABASE_URL) throw new Error('userCount needs DATABASE_URL');
  const c = new Client({ connectionString: env.DATABASE_URL });
  await c.connect();
  try {
    const [{ t }] = (await c.query(`SELECT to_regclass('public.app_user') AS t`)).rows as Array<{
      t: string | null;
    }>;
    if (t === null) return 0;
    const [{ n }] = (await c.query('SELECT count(*)::int AS n FROM app_user')).rows as Array<{
      n: number;
    }>;
    return n;
  } finally {
    await c.end();
  }
}

/** Every file under `dir` with its size and modification time: equal before and after = untouched. */
function folderState(dir: string): string[] {
  return (fs.readdirSync(dir, { recursive: true }) as string[]).sort().map((f) => {
    const st = fs.statSync(path.join(dir, f));
    return `${f} ${st.size} ${st.mtimeMs}`;
  });
}

describe('server start', () => {
  let probeFile: string;
  const spawned: ServerProcess[] = [];
  const spawn = async (env: Record<string, string>): Promise<ServerProcess> => {
    const s = await spawnServer({
      NODE_OPTIONS: `--require ${probeFile}`,
      ROOMKEY_BOOTSTRAP_ADMIN_EMAIL: BOOTSTRAP_EMAIL,
      // Keys from the environment: no generated key file lands in the repository's .data/.
      ROOMKEY_AUDIT_KEYS: TEST_AUDIT_KEYS,
      ROOMKEY_MASTER_KEYS: TEST_MASTER_KEYS,
      ...env,
    });
    spawned.push(s);
    return s;
  };

  beforeAll(() => {
    buildServer();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'roomkey-startup-'));
    probeFile = path.join(dir, 'probe.js');
    fs.writeFileSync(probeFile, PROBE);
  }, 200_000);

  afterAll(async () => {
    for (const s of spawned) await killServer(s);
    fs.rmSync(path.dirname(probeFile), { recursive: true, force: true });
  });

  describe('with an invalid configuration', () => {
    it('should exit 78 with the problem on stderr and without loading Nest when PORT is not a number', async () => {
      const s = await spawn({ ROOMKEY_DATA_DIR: 'memory://', PORT: 'eighty' });
      const { code, output } = await exitOf(s);
      expect(code).toBe(78);
      expect(output).toContain('PORT: must be a whole number');
      expect(output).toContain('probe: nest loaded=false');
      expect(jsonLines(output)).toEqual([]);
    });
  });

  describe('when the port is already in use', () => {
    let db: { env: Record<string, string>; drop: () => Promise<void> };
    let holder: { port: number; close: () => Promise<void> };
    let result: { code: number | null; output: string };
    let folderBefore: string[] = [];

    beforeAll(async () => {
      db = await durableDatabase('port-taken');
      if (db.env.ROOMKEY_DATA_DIR) folderBefore = folderState(db.env.ROOMKEY_DATA_DIR);
      holder = await occupyPort();
      const s = await spawn({
        ...db.env,
        PORT: String(holder.port),
        ROOMKEY_BOOTSTRAP_ADMIN_PASSWORD: '',
      });
      result = await exitOf(s);
    }, 60_000);

    afterAll(async () => {
      await holder.close();
      await db.drop();
    });

    it('should exit non-zero with one fatal JSON line naming the port', () => {
      expect(result.code).toBe(1);
      const lines = jsonLines(result.output);
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatchObject({ level: 60, errorCode: 'EADDRINUSE' });
      expect(lines[0].msg).toContain(`127.0.0.1:${holder.port}: address already in use`);
    });

    it('should print no banner and no password', () => {
      expect(textLines(result.output)).toEqual([]);
      expect(result.output).not.toMatch(/password|first start|Authorization/i);
    });

    it('should create no administrator and write nothing to the database', async () => {
      expect(result.output).toContain('probe: nest loaded=false');
      if (db.env.DATABASE_URL) expect(await userCount(db.env)).toBe(0);
      else expect(folderState(db.env.ROOMKEY_DATA_DIR)).toEqual(folderBefore);
    });
  });

  describe('when the database refuses the connection', () => {
    it('should exit non-zero after one attempt with one JSON line when the password is wrong', async () => {
      const pg = await refusingPostgres([
        ['28P01', 'password authentication failed for user "roomkey"'],
      ]);
      try {
        const s = await spawn({
          DATABASE_URL: `postgres://roomkey:wrong@127.0.0.1:${pg.port}/roomkey`,
        });
        const { code, output } = await exitOf(s);
        expect(code).toBe(1);
        expect(pg.connections()).toBe(1);
        const lines = jsonLines(output);
        expect(lines).toHaveLength(1);
        expect(lines[0]).toMatchObject({ level: 60, errorCode: '28P01' });
        expect(lines[0].msg).toBe(
          'database refused: password authentication failed for user "roomkey"',
        );
        expect(textLines(output)).toEqual([]);
        expect(output).not.toContain('\u001b['); // no colours
        expect(output).not.toContain('wrong'); // nor the password of the URL
      } finally {
        await pg.close();
      }
    });

    it('should retry while the database is starting up and stop at the first refusal', async () => {
      const pg = await refusingPostgres([
        ['57P03', 'the database system is starting up'],
        ['3D000', 'database "roomkey" does not exist'],
      ]);
      try {
        const s = await spawn({ DATABASE_URL: `postgres://roomkey@127.0.0.1:${pg.port}/roomkey` });
        const { code, output } = await exitOf(s);
        expect(code).toBe(1);
        expect(pg.connections()).toBe(2);
        const lines = jsonLines(output);
        expect(lines.map((l) => l.level)).toEqual([50, 60]);
        expect(lines[0].msg).toContain('Retrying (1)');
        expect(lines[1]).toMatchObject({
          errorCode: '3D000',
          msg: 'database refused: database "roomkey" does not exist',
        });
      } finally {
        await pg.close();
      }
    }, 30_000);

    if (process.env.DATABASE_URL) {
      it('should exit non-zero with one JSON line when the database of DATABASE_URL does not exist', async () => {
        const url = new URL(process.env.DATABASE_URL as string);
        url.pathname = `/rk_missing_${process.pid}_${Date.now()}`;
        const s = await spawn({ DATABASE_URL: url.toString() });
        const { code, output } = await exitOf(s);
        expect(code).toBe(1);
        const lines = jsonLines(output);
        expect(lines).toHaveLength(1);
        expect(lines[0]).toMatchObject({ level: 60, errorCode: '3D000' });
        expect(textLines(output)).toEqual([]);
      });
    }
  });

  describe('on a new database, then again on the same one', () => {
    let db: { env: Record<string, string>; drop: () => Promise<void> };
    let first: { output: string; banner: string[]; logs: JsonLine[] };
    let second: { output: string; banner: string[]; logs: JsonLine[] };

    /** Starts, waits for readiness, stops; the output up to readiness and the lines after it. */
    const runOnce = async (): Promise<{ output: string; banner: string[]; logs: JsonLine[] }> => {
      const s = await spawn({ ...db.env, ROOMKEY_BOOTSTRAP_ADMIN_PASSWORD: '' });
      await waitReady(s);
      const output = s.output();
      s.proc.kill('SIGTERM');
      await s.exited;
      return { output, banner: textLines(output), logs: jsonLines(output) };
    };

    /** The start's own lines: without the request logs of the readiness polls. */
    const startLines = (r: { logs: JsonLine[] }) => r.logs.filter((l) => l.req === undefined);

    beforeAll(async () => {
      db = await durableDatabase('startup-logs');
      first = await runOnce();
      second = await runOnce();
    }, 180_000);

    afterAll(() => db.drop());

    it('should log a few lines at info and none of Nest’s per-module or per-route lines', () => {
      for (const run of [first, second]) {
        const lines = startLines(run);
        expect(lines.length).toBeGreaterThan(0);
        expect(lines.length).toBeLessThanOrEqual(8);
        expect(lines.map((l) => l.context)).not.toEqual(
          expect.arrayContaining(['InstanceLoader', 'RouterExplorer', 'RoutesResolver']),
        );
        expect(lines.some((l) => /^Mapped \{/.test(l.msg))).toBe(false);
      }
      expect(startLines(second).map((l) => l.msg)).toEqual([
        expect.stringMatching(/^Roomkey listening on http:\/\/127\.0\.0\.1:\d+ /),
        // On an embedded data folder, where the CLI reaches this server.
        ...(db.env.ROOMKEY_DATA_DIR ? [expect.stringMatching(/^CLI commands accepted on /)] : []),
      ]);
    });

    it('should write each log line in time order when it happens', () => {
      const times = first.logs.map((l) => l.time);
      expect(times).toEqual([...times].sort((a, b) => a - b));
      // Held-back lines would share one flush time; a real start spreads over migrations.
      expect(new Set(startLines(first).map((l) => l.time)).size).toBeGreaterThan(1);
    });

    it('should print the banner after every start line, the first time with the sign-in', () => {
      for (const run of [first, second]) {
        const lines = run.output.split('\n');
        const banner = lines.indexOf(run.banner[0]);
        const isStartLine = (l: string) =>
          l.startsWith('{') && (JSON.parse(l) as JsonLine).req === undefined;
        expect(banner).toBeGreaterThan(0);
        expect(lines.slice(banner).some(isStartLine)).toBe(false);
      }
      expect(first.banner[0]).toBe('================ Roomkey first start ================');
      expect(first.banner.join('\n')).toContain(`Platform administrator: ${BOOTSTRAP_EMAIL}`);
      expect(second.banner).toEqual([
        expect.stringMatching(/^Roomkey is ready on http:\/\/127\.0\.0\.1:\d+/),
      ]);
    });

    it('should sign in with the printed Authorization header, which never reaches the logs', async () => {
      const text = first.banner.join('\n');
      const password = /Password:\s+(\S+)/.exec(text)?.[1] ?? '';
      const header = /\{"Authorization": "(Basic [A-Za-z0-9+/=]+)"\}/.exec(text)?.[1] ?? '';
      expect(header).not.toBe('');
      const decoded = Buffer.from(header.slice('Basic '.length), 'base64').toString('utf8');
      expect(decoded).toBe(`${BOOTSTRAP_EMAIL}:${password}`);
      const logs = first.output
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .join('\n');
      expect(logs).not.toContain(password);
      expect(logs).not.toContain(header.slice('Basic '.length));

      const s = await spawn({ ...db.env });
      await waitReady(s);
      const res = await fetch(`http://127.0.0.1:${s.port}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: header },
        body: JSON.stringify({ query: '{ me { role } }' }),
      });
      const body = (await res.json()) as { data?: { me?: { role: string } } };
      expect(body.data?.me?.role).toBe('OWNER');
      const wrong = await fetch(`http://127.0.0.1:${s.port}/graphql`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: `${header.slice(0, -4)}AAAA`,
        },
        body: JSON.stringify({ query: '{ me { role } }' }),
      });
      expect(((await wrong.json()) as { data?: unknown }).data ?? null).toBeNull();
      s.proc.kill('SIGTERM');
      await s.exited;
    }, 120_000);
  });

  it('should answer ready only once it listens and the first administrator exists', async () => {
    // Readiness polled from the spawn on: no answer, or 503 "starting", until the first 200; and
    // by then the administrator can sign in.
    const port = await freePort();
    const password = 'startup-ready-password-0001';
    const db = await durableDatabase('startup-ready');
    const s = await spawn({
      ...db.env,
      PORT: String(port),
      ROOMKEY_BOOTSTRAP_ADMIN_PASSWORD: password,
    });
    const seen: string[] = [];
    try {
      for (;;) {
        const res = await fetch(`http://127.0.0.1:${port}/health/ready`).catch(() => null);
        if (res) seen.push(`${res.status} ${((await res.json()) as { status: string }).status}`);
        if (res?.status === 200) break;
        if (s.proc.exitCode !== null) throw new Error(s.output());
        await new Promise((r) => setTimeout(r, 20));
      }
      const me = await fetch(`http://127.0.0.1:${port}/graphql`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: basic(BOOTSTRAP_EMAIL, password),
        },
        body: JSON.stringify({ query: '{ me { role } }' }),
      });
      expect(((await me.json()) as { data?: { me?: { role: string } } }).data?.me?.role).toBe(
        'OWNER',
      );
      expect(seen.at(-1)).toBe('200 ok');
      expect(seen.slice(0, -1).filter((a) => a !== '503 starting')).toEqual([]);
    } finally {
      s.proc.kill('SIGTERM');
      await s.exited;
      await db.drop();
    }
  }, 120_000);
});
