import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runCli } from '../src/cli/main';
import { durableDatabase } from './helpers/database';
import { TEST_AUDIT_KEYS, TEST_MASTER_KEYS, basic, startTestApp } from './helpers/test-app';

/** Runs the CLI in-process against one database and captures its output. */
describe('roomkey CLI', () => {
  let env: Record<string, string>;
  let cleanup: () => Promise<void>;

  beforeAll(async () => {
    const db = await durableDatabase('cli');
    env = {
      ...db.env,
      NODE_ENV: 'test',
      ROOMKEY_AUDIT_KEYS: TEST_AUDIT_KEYS,
      ROOMKEY_MASTER_KEYS: TEST_MASTER_KEYS,
    };
    cleanup = db.drop;
  });
  afterAll(() => cleanup());

  async function cli(...argv: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runCli(argv, env, { out: (l) => out.push(l), err: (l) => err.push(l) });
    return { code, out, err };
  }

  // Three CLI runs (each opens the database) and an app: slow on a busy two-core machine.
  it('should create a tenant, a user with a generated password and an API key that all work', async () => {
    const t1 = await cli(
      'tenant:create',
      '--slug',
      'acme',
      '--name',
      'Acme',
      '--owner',
      'Alice@Acme.test',
    );
    expect(t1.code).toBe(0);
    expect(JSON.parse(t1.out[0])).toMatchObject({
      tenant: { slug: 'acme', name: 'Acme' },
      owner: 'alice@acme.test',
    });

    const u = await cli(
      'user:create',
      '--email',
      'bob@acme.test',
      '--generate-password',
      '--tenant',
      'acme',
      '--role',
      'ADMIN',
    );
    expect(u.code).toBe(0);
    expect(JSON.parse(u.out[0])).toMatchObject({ tenant: 'acme', role: 'ADMIN' });
    const password = /shown once\): (\S+)$/.exec(u.out[1])?.[1];
    expect(password).toHaveLength(24);

    const k = await cli(
      'api-key:create',
      '--tenant',
      'acme',
      '--name',
      'backend',
      '--role',
      'MEMBER',
    );
    expect(k.code).toBe(0);
    const keyId = (JSON.parse(k.out[0]) as { apiKey: { keyId: string; role: string } }).apiKey;
    expect(keyId.role).toBe('MEMBER');
    const secret = /shown once\): (\S+)$/.exec(k.out[1])?.[1];
    expect(secret).toBeDefined();

    // The server on the same database accepts what the CLI created.
    const app = await startTestApp(env);
    try {
      const asBob = await app.gql<{ me: { role: string; tenant: { slug: string } } }>(
        '{ me { role tenant { slug } } }',
        {},
        {
          auth: basic('bob@acme.test', password!),
        },
      );
      expect(asBob.body.data?.me).toEqual({ role: 'ADMIN', tenant: { slug: 'acme' } });
      const asKey = await app.gql<{ me: { actorType: string; role: string } }>(
        '{ me { actorType role } }',
        {},
        {
          auth: basic(keyId.keyId, secret!),
        },
      );
      expect(asKey.body.data?.me).toEqual({ actorType: 'API_KEY', role: 'MEMBER' });
    } finally {
      await app.app.close(); // keep the scratch database: afterAll drops it
    }
  }, 300_000);

  it('should exit 1 with the error code when the tenant does not exist', async () => {
    const r = await cli('api-key:create', '--tenant', 'nope-nope', '--name', 'x');
    expect(r.code).toBe(1);
    expect(r.err.join('\n')).toContain('NOT_FOUND');
  });

  it('should exit 1 with CONFLICT when the slug is taken', async () => {
    await cli('tenant:create', '--slug', 'taken', '--name', 'T', '--owner', 'x@taken.test');
    const r = await cli(
      'tenant:create',
      '--slug',
      'taken',
      '--name',
      'T',
      '--owner',
      'y@taken.test',
    );
    expect(r.code).toBe(1);
    expect(r.err.join('\n')).toContain('CONFLICT');
  });

  it('should exit 2 with usage when an option is unknown or missing', async () => {
    expect((await cli('api-key:create', '--bogus')).code).toBe(2);
    expect((await cli('tenant:create', '--slug', 'abc')).code).toBe(2);
    expect((await cli('no-such-command')).code).toBe(2);
    expect((await cli()).code).toBe(2);
  });

  it('should answer a usage error before opening anything, leaving a new data folder empty', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'roomkey-cli-usage-'));
    try {
      // No keys in the environment either: a started app would generate them into the folder.
      const bare = { NODE_ENV: 'test', ROOMKEY_DATA_DIR: dir };
      const usage = async (...argv: string[]): Promise<number> =>
        runCli(argv, bare, { out: () => undefined, err: () => undefined });
      expect(await usage('api-key:create', '--bogus')).toBe(2);
      expect(
        await usage('api-key:create', '--tenant', 'acme', '--name', 'k', '--expires', 'soon'),
      ).toBe(2);
      expect(
        await usage('api-key:create', '--tenant', 'acme', '--name', 'k', '--role', 'KING'),
      ).toBe(2);
      expect(await usage('tenant:create', '--slug', 'abc')).toBe(2);
      expect(await usage('user:create', '--email', 'a@b.test', '--role', 'ADMIN')).toBe(2);
      expect(
        await usage('user:create', '--email', 'a@b.test', '--password', 'p', '--generate-password'),
      ).toBe(2);
      expect(fs.readdirSync(dir)).toEqual([]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('should refuse an invalid slug and a short password with BAD_USER_INPUT', async () => {
    const bad = await cli(
      'tenant:create',
      '--slug',
      'Not_A_Slug',
      '--name',
      'x',
      '--owner',
      'z@z.test',
    );
    expect(bad.code).toBe(1);
    expect(bad.err.join()).toContain('BAD_USER_INPUT');
    const pw = await cli('user:create', '--email', 'short@z.test', '--password', 'short');
    expect(pw.code).toBe(1);
    expect(pw.err.join()).toContain('BAD_USER_INPUT');
  });
  // Last: afterwards the database needs the new master key.
  it('should rotate the signing key and re-wrap sealed secrets under a new master key', async () => {
    const first = await cli('signing-key:rotate');
    expect(first.code).toBe(0);
    const { kid } = JSON.parse(first.out[0]) as { kid: string };
    expect(kid).toMatch(/^rk-/);
    // A new master key first in the list: every sealed value moves to it, and still opens.
    const newKey = `master-test-2:${Buffer.alloc(32, 3).toString('base64')}`;
    const rotatedEnv = { ...env, ROOMKEY_MASTER_KEYS: `${newKey},${TEST_MASTER_KEYS}` };
    const out: string[] = [];
    const code = await runCli(['keys:rotate'], rotatedEnv, {
      out: (l) => out.push(l),
      err: () => undefined,
    });
    expect(code).toBe(0);
    const rewrapped = (JSON.parse(out[0]) as { rewrapped: { signingKeys: number } }).rewrapped;
    expect(rewrapped.signingKeys).toBeGreaterThanOrEqual(2);
    // Running it again finds nothing left to re-wrap.
    const again: string[] = [];
    await runCli(['keys:rotate'], rotatedEnv, { out: (l) => again.push(l), err: () => undefined });
    expect(
      (JSON.parse(again[0]) as { rewrapped: { signingKeys: number } }).rewrapped.signingKeys,
    ).toBe(0);
    // With only the new key the server starts, signs and verifies (the old key is no longer needed).
    const app = await startTestApp({ ...env, ROOMKEY_MASTER_KEYS: newKey });
    try {
      const jwks = await app.http().get('/.well-known/jwks.json');
      expect((jwks.body as { keys: Array<{ kid: string }> }).keys.map((k) => k.kid)).toContain(kid);
    } finally {
      await app.app.close();
    }
  });
});
