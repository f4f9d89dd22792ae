import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  ROOT,
  type ServerProcess,
  buildServer,
  killServer,
  spawnServer,
  waitReady,
} from './helpers/server-process';
import { migratedDataFolder } from './helpers/database';
import { TEST_AUDIT_KEYS, TEST_MASTER_KEYS } from './helpers/test-app';

interface CliRun {
  code: number | null;
  out: string;
  err: string;
}

interface AuditRow {
  action: string;
  actorType: string;
  actorLabel: string;
  authMethod: string;
  requestId: string | null;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * The CLI while the server holds the embedded data folder: the built CLI (dist/src/cli/main.js)
 * runs as its own process and reaches the server process through <data folder>/roomkey.sock.
 * Always on an embedded folder: on PostgreSQL the CLI connects itself and no socket is offered.
 */
describe('roomkey CLI over the running server’s local socket', () => {
  let dataDir: string;
  let socket: string;
  let env: Record<string, string>;
  let server: ServerProcess | undefined;
  let elsewhere: string; // a working folder that is not the server's

  beforeAll(async () => {
    buildServer();
    dataDir = migratedDataFolder('clisock');
    fs.chmodSync(dataDir, 0o700);
    socket = path.join(dataDir, 'roomkey.sock');
    elsewhere = fs.mkdtempSync(path.join(os.tmpdir(), 'rk-clisock-cwd-'));
    env = {
      ROOMKEY_DATA_DIR: dataDir,
      ROOMKEY_AUDIT_KEYS: TEST_AUDIT_KEYS,
      ROOMKEY_MASTER_KEYS: TEST_MASTER_KEYS,
      ROOMKEY_DRAIN_MS: '0',
    };
    server = await start();
  }, 300_000);

  afterAll(async () => {
    await killServer(server);
    fs.rmSync(dataDir, { recursive: true, force: true });
    fs.rmSync(elsewhere, { recursive: true, force: true });
  });

  async function start(): Promise<ServerProcess> {
    const s = await spawnServer(env);
    await waitReady(s);
    // The socket is offered right after the HTTP port is bound.
    const deadline = Date.now() + 30_000;
    while (!s.output().includes('CLI commands accepted on')) {
      if (Date.now() > deadline) throw new Error(`no CLI socket:\n${s.output().slice(-3000)}`);
      await sleep(100);
    }
    return s;
  }

  function cli(argv: string[], cwd = elsewhere): Promise<CliRun> {
    const full: NodeJS.ProcessEnv = { ...process.env, NODE_ENV: 'test', ...env };
    delete full.DATABASE_URL;
    delete full.NODE_OPTIONS;
    return new Promise((resolve) => {
      execFile(
        process.execPath,
        [path.join(ROOT, 'dist/src/cli/main.js'), ...argv],
        { cwd, env: full, timeout: 120_000 },
        (error, stdout, stderr) => {
          const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
          resolve({ code, out: stdout, err: stderr });
        },
      );
    });
  }

  /** One raw request on the socket; the answer's frames. */
  function raw(payload: string | Buffer): Promise<Array<Record<string, unknown>>> {
    return new Promise((resolve, reject) => {
      const sock = net.createConnection(socket);
      let text = '';
      sock.on('data', (d: Buffer) => (text += d.toString('utf8')));
      sock.on('error', reject);
      sock.on('close', () =>
        resolve(
          text
            .split('\n')
            .filter((l) => l !== '')
            .map((l) => JSON.parse(l) as Record<string, unknown>),
        ),
      );
      sock.end(payload);
    });
  }

  const exitOf = (frames: Array<Record<string, unknown>>): unknown => frames.at(-1)?.exit;
  const errOf = (frames: Array<Record<string, unknown>>): string =>
    frames
      .map((f) => f.err)
      .filter((e) => typeof e === 'string')
      .join('\n');

  async function auditRows(slug: string): Promise<AuditRow[]> {
    const r = await cli(['audit:export', '--tenant', slug]);
    expect(r.code).toBe(0);
    return r.out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as AuditRow);
  }

  it('should offer the socket with mode 0600 in the data folder', () => {
    const st = fs.lstatSync(socket);
    expect(st.isSocket()).toBe(true);
    expect(st.mode & 0o777).toBe(0o600);
    expect(st.uid).toBe(process.getuid!());
  });

  it('should run commands inside the running server and print their output and exit code', async () => {
    const t = await cli([
      'tenant:create',
      '--slug',
      'acme',
      '--name',
      'Acme',
      '--owner',
      'A@acme.test',
    ]);
    expect(t).toMatchObject({ code: 0, err: '' });
    expect(JSON.parse(t.out)).toMatchObject({
      tenant: { slug: 'acme', name: 'Acme' },
      owner: 'a@acme.test',
    });

    const canary = `Canary-${Date.now()}-password`;
    const u = await cli([
      'user:create',
      '--email',
      'bob@acme.test',
      '--password',
      canary,
      '--tenant',
      'acme',
      '--role',
      'ADMIN',
    ]);
    expect(u.code).toBe(0);
    expect(JSON.parse(u.out)).toMatchObject({ tenant: 'acme', role: 'ADMIN' });

    const k = await cli(['api-key:create', '--tenant', 'acme', '--name', 'backend']);
    expect(k.code).toBe(0);
    const [json, secretLine] = k.out.trim().split('\n');
    const keyId = (JSON.parse(json) as { apiKey: { keyId: string } }).apiKey.keyId;
    const secret = /shown once\): (\S+)$/.exec(secretLine)?.[1];
    expect(secret).toBeDefined();

    // The server that ran them knows the key and the password at once (no restart, no cache lag).
    const me = async (user: string, pass: string): Promise<unknown> => {
      const res = await fetch(`http://127.0.0.1:${server!.port}/graphql`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`,
        },
        body: JSON.stringify({ query: '{ me { role tenant { slug } } }' }),
      });
      return ((await res.json()) as { data?: { me: unknown } }).data?.me;
    };
    expect(await me(keyId, secret!)).toEqual({ role: 'ADMIN', tenant: { slug: 'acme' } });
    expect(await me('bob@acme.test', canary)).toEqual({ role: 'ADMIN', tenant: { slug: 'acme' } });

    // The server logs which command ran, never its arguments or what it printed.
    expect(server!.output()).toContain('CLI user:create over the local socket: exit 0');
    expect(server!.output()).not.toContain(canary);
    expect(server!.output()).not.toContain(secret);
  });

  it("should pass on a command's failure as its message and exit code", async () => {
    const missing = await cli(['api-key:create', '--tenant', 'nope-nope', '--name', 'x']);
    expect(missing.code).toBe(1);
    expect(missing.err).toContain('NOT_FOUND');
    const usage = await cli(['tenant:create', '--slug', 'only-a-slug']);
    expect(usage.code).toBe(2);
    expect(usage.err).toContain('--name is required');
    const taken = await cli([
      'tenant:create',
      '--slug',
      'acme',
      '--name',
      'A',
      '--owner',
      'x@a.test',
    ]);
    expect(taken.code).toBe(1);
    expect(taken.err).toContain('CONFLICT');
    const unknown = await cli(['no-such-command']);
    expect(unknown.code).toBe(2);
    expect(unknown.err).toContain('Unknown command "no-such-command"');
  });

  it('should audit socket commands like CLI commands, and resolve files from the CLI’s folder', async () => {
    const rows = await auditRows('acme');
    const cliActor = {
      actorType: 'SYSTEM',
      actorLabel: 'system',
      authMethod: 'SYSTEM',
      requestId: 'cli',
    };
    expect(rows.find((r) => r.action === 'tenant.created')).toMatchObject(cliActor);
    // The export is itself audited before it runs, with the same actor.
    expect(rows.find((r) => r.action === 'audit.exported')).toMatchObject(cliActor);

    // --out and --file are the CLI's paths, not the server's (which runs in the repository).
    const out = await cli(['audit:export', '--tenant', 'acme', '--out', 'acme.ndjson']);
    expect(out.code).toBe(0);
    expect(JSON.parse(out.out)).toMatchObject({ file: 'acme.ndjson', format: 'ndjson' });
    expect(fs.existsSync(path.join(elsewhere, 'acme.ndjson'))).toBe(true);
    expect(fs.existsSync(path.join(ROOT, 'acme.ndjson'))).toBe(false);
    const verified = await cli(['audit:verify', '--file', 'acme.ndjson']);
    expect(verified.code).toBe(0);
    expect(JSON.parse(verified.out)).toMatchObject({ ok: true });
    const absent = await cli(['audit:verify', '--file', 'acme.ndjson'], os.tmpdir());
    expect(absent.code).toBe(2);
    expect(absent.err).toContain('no such file: acme.ndjson');
  });

  it('should refuse malformed, oversized and unknown requests with exit 2 and keep serving', async () => {
    const notJson = await raw('this is not json\n');
    expect(exitOf(notJson)).toBe(2);
    expect(errOf(notJson)).toContain('not a JSON line');

    const wrongShape = await raw(`${JSON.stringify({ argv: 'tenant:create', cwd: '/' })}\n`);
    expect(exitOf(wrongShape)).toBe(2);
    expect(errOf(wrongShape)).toContain('"argv" must be a non-empty array of strings');

    const relative = await raw(`${JSON.stringify({ argv: ['help'], cwd: 'relative' })}\n`);
    expect(exitOf(relative)).toBe(2);
    expect(errOf(relative)).toContain('"cwd" must be an absolute path');

    const extra = await raw(`${JSON.stringify({ argv: ['help'], cwd: '/', admin: true })}\n`);
    expect(exitOf(extra)).toBe(2);
    expect(errOf(extra)).toContain('unknown field(s): admin');

    const huge = await raw(Buffer.alloc(200 * 1024, 'a'));
    expect(exitOf(huge)).toBe(2);
    expect(errOf(huge)).toContain('larger than 65536 bytes');

    const empty = await raw('');
    expect(exitOf(empty)).toBe(2);
    expect(errOf(empty)).toContain('empty request');

    const unknown = await raw(`${JSON.stringify({ argv: ['drop:everything'], cwd: '/' })}\n`);
    expect(exitOf(unknown)).toBe(2);
    expect(errOf(unknown)).toContain('Unknown command "drop:everything"');

    // Well-formed, without a trailing newline (the client ended its side): answered normally.
    const ok = await raw(JSON.stringify({ argv: ['audit:verify', '--tenant', 'acme'], cwd: '/' }));
    expect(exitOf(ok)).toBe(0);
    expect(JSON.parse(ok[0].out as string)).toMatchObject({ ok: true });
  });

  it('should refuse a socket or data folder that other users could use', async () => {
    fs.chmodSync(socket, 0o666);
    try {
      const r = await cli(['audit:verify', '--tenant', 'acme']);
      expect(r.code).toBe(1);
      expect(r.err).toContain('open to other users (mode 666, expected 600)');
      expect(r.out).toBe('');
    } finally {
      fs.chmodSync(socket, 0o600);
    }
    fs.chmodSync(dataDir, 0o777);
    try {
      const r = await cli(['audit:verify', '--tenant', 'acme']);
      expect(r.code).toBe(1);
      expect(r.err).toContain('is writable by other users (mode 777)');
    } finally {
      fs.chmodSync(dataDir, 0o700);
    }
    expect((await cli(['audit:verify', '--tenant', 'acme'])).code).toBe(0);
  });

  it('should fail at once in one line when the server holds the folder but does not answer', async () => {
    const aside = `${socket}.aside`;
    fs.renameSync(socket, aside);
    try {
      const r = await cli(['audit:verify', '--tenant', 'acme']);
      expect(r.code).toBe(1);
      expect(r.err.trim().split('\n')).toEqual([
        expect.stringContaining(`is held by process ${server!.proc.pid}`),
      ]);
      expect(r.err).not.toMatch(/\n\s+at /); // no stack trace
    } finally {
      fs.renameSync(aside, socket);
    }
  });

  it('should remove the socket when the server stops on SIGTERM', async () => {
    server!.proc.kill('SIGTERM');
    expect(await server!.exited).toEqual({ code: 0, signal: null });
    expect(fs.existsSync(socket)).toBe(false);
    expect(fs.existsSync(path.join(dataDir, 'roomkey.pid'))).toBe(false);
  });

  it('should run the CLI itself past a stale socket, and start a new server over it', async () => {
    server = await start();
    server.proc.kill('SIGKILL');
    await server.exited;
    expect(fs.lstatSync(socket).isSocket()).toBe(true); // left behind

    // Nobody answers: the CLI opens the folder itself, as it does with no server.
    const local = await cli([
      'tenant:create',
      '--slug',
      'beta',
      '--name',
      'Beta',
      '--owner',
      'b@b.test',
    ]);
    expect(local.err).toBe('');
    expect(local.code).toBe(0);

    server = await start();
    expect(server.output()).not.toContain('No CLI socket');
    const viaSocket = await cli(['audit:verify', '--tenant', 'beta']);
    expect(viaSocket.code).toBe(0);
    expect(server.output()).toContain('CLI audit:verify over the local socket: exit 0');

    // The same actor whether the CLI ran on its own or inside the server.
    const actor = (r: AuditRow | undefined): Partial<AuditRow> => ({
      actorType: r?.actorType,
      actorLabel: r?.actorLabel,
      authMethod: r?.authMethod,
      requestId: r?.requestId,
    });
    const direct = (await auditRows('beta')).find((r) => r.action === 'tenant.created');
    const viaServer = (await auditRows('acme')).find((r) => r.action === 'tenant.created');
    expect(direct).toBeDefined();
    expect(actor(direct)).toEqual(actor(viaServer));
  }, 300_000);
});
