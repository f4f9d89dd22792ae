import { DataSource } from 'typeorm';
import {
  ADMIN_EMAIL,
  ADMIN_PASSWORD,
  ADMIN_TENANT,
  basic,
  startTestApp,
  type TestApp,
} from './helpers/test-app';
import { createScratchDatabase, durableDatabase } from './helpers/database';
import { buildApp, finishStart } from '../src/app.factory';
import { loadConfig } from '../src/common/config';
import request from 'supertest';

interface PrintedSignIn {
  email: string;
  /** The password exactly as printed in the curl line (a placeholder when it came from the env). */
  password: string;
  url: URL;
  body: { query: string };
}

/** Reads the curl command the banner tells a newcomer to run. */
function parseCurl(banner: string): PrintedSignIn {
  const user = /curl -s -u '([^':]+):([^']*)'/.exec(banner);
  const url = /(https?:\/\/\S+\/graphql)\b/.exec(banner);
  const data = /-d '(.*)'\s*$/m.exec(banner);
  if (!user || !url || !data) throw new Error(`no curl sign-in in the banner:\n${banner}`);
  return {
    email: user[1],
    password: user[2],
    url: new URL(url[1]),
    body: JSON.parse(data[1]) as { query: string },
  };
}

/** Runs the printed request against the app, as curl would, with the given password. */
async function runPrintedCurl(t: TestApp, printed: PrintedSignIn, password: string) {
  const res = await t
    .http()
    .post(printed.url.pathname)
    .set('content-type', 'application/json')
    .set('authorization', basic(printed.email, password))
    .send(printed.body);
  return res as unknown as {
    status: number;
    body: { data?: { me?: { role: string; tenant: { slug: string } } }; errors?: unknown[] };
  };
}

describe('first start', () => {
  describe('with ROOMKEY_BOOTSTRAP_ADMIN_PASSWORD set', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await startTestApp();
    });
    afterAll(() => t.close());

    it('should print exactly one banner naming the admin email and tenant when the database is new', () => {
      expect(t.banner).toHaveLength(1);
      const [banner] = t.banner;
      expect(banner).toContain('Roomkey first start');
      expect(banner).toContain(`Platform administrator: ${ADMIN_EMAIL}`);
      expect(banner).toMatch(new RegExp(`Tenant:\\s+${ADMIN_TENANT} \\(you are its OWNER\\)`));
    });

    it('should not print the password when it came from the environment', () => {
      const [banner] = t.banner;
      expect(banner).not.toContain(ADMIN_PASSWORD);
      expect(banner).toContain('(the value of ROOMKEY_BOOTSTRAP_ADMIN_PASSWORD)');
      expect(parseCurl(banner).password).toBe('<password>');
    });

    it('should print a placeholder, not the Basic header, when the password came from the environment', () => {
      const [banner] = t.banner;
      const encoded = Buffer.from(`${ADMIN_EMAIL}:${ADMIN_PASSWORD}`).toString('base64');
      expect(banner).not.toContain(encoded);
      expect(banner).toContain(`{"Authorization": "Basic <base64 of ${ADMIN_EMAIL}:password>"}`);
    });

    it('should sign in with the printed curl command when the env password is filled in', async () => {
      const printed = parseCurl(t.banner[0]);
      expect(printed.email).toBe(ADMIN_EMAIL);
      expect(printed.url.port).toBe(String(t.config.app.port));
      const res = await runPrintedCurl(t, printed, ADMIN_PASSWORD);
      expect(res.status).toBe(200);
      expect(res.body.errors).toBeUndefined();
      expect(res.body.data?.me).toEqual({ role: 'OWNER', tenant: { slug: ADMIN_TENANT } });
    });

    it('should refuse the printed curl command when the password is wrong', async () => {
      const res = await runPrintedCurl(t, parseCurl(t.banner[0]), `${ADMIN_PASSWORD}-wrong`);
      expect(res.body.data?.me).toBeUndefined();
      expect(res.body.errors).toBeDefined();
    });

    it('should never write the banner or the password to the logs when starting', () => {
      expect(t.logs.length).toBeGreaterThan(0);
      const all = t.logs.join('\n');
      expect(all).not.toContain(ADMIN_PASSWORD);
      expect(all).not.toContain('Roomkey first start');
      expect(all).not.toContain('curl -s -u');
    });
  });

  describe('without ROOMKEY_BOOTSTRAP_ADMIN_PASSWORD', () => {
    let t: TestApp;
    let generated: string;
    beforeAll(async () => {
      t = await startTestApp({ ROOMKEY_BOOTSTRAP_ADMIN_PASSWORD: '' });
      generated = /Password:\s+(\S+)/.exec(t.banner[0] ?? '')?.[1] ?? '';
    });
    afterAll(() => t.close());

    it('should print a generated password once when none is configured', () => {
      expect(t.config.bootstrap.adminPassword).toBeUndefined();
      expect(t.banner).toHaveLength(1);
      expect(generated).toMatch(/^[A-Za-z0-9_-]{24,}$/);
      expect(t.banner[0]).toContain('shown only now');
      expect(parseCurl(t.banner[0]).password).toBe(generated);
    });

    it('should sign in with the printed curl command as printed when the password was generated', async () => {
      const printed = parseCurl(t.banner[0]);
      const res = await runPrintedCurl(t, printed, printed.password);
      expect(res.status).toBe(200);
      expect(res.body.errors).toBeUndefined();
      expect(res.body.data?.me).toEqual({ role: 'OWNER', tenant: { slug: ADMIN_TENANT } });
    });

    it('should sign in with the printed Authorization header when the password was generated', async () => {
      const header = /\{"Authorization": "(Basic [A-Za-z0-9+/=]+)"\}/.exec(t.banner[0])?.[1];
      expect(header).toBe(basic(ADMIN_EMAIL, generated));
      const ok = await t.gql<{ me: { role: string } }>('{ me { role } }', {}, { auth: header });
      expect(ok.body.data?.me.role).toBe('OWNER');
      const bad = await t.gql('{ me { role } }', {}, { auth: basic(ADMIN_EMAIL, `${generated}x`) });
      expect(bad.body.data?.me).toBeUndefined();
    });

    it('should keep the generated password out of the logs and the database when it is stored', async () => {
      expect(t.logs.join('\n')).not.toContain(generated);
      expect(t.logs.join('\n')).not.toContain(basic(ADMIN_EMAIL, generated).slice(6));
      const rows: Array<{ password_hash: string }> = await t.ds.query(
        'SELECT password_hash FROM app_user WHERE email = $1',
        [ADMIN_EMAIL],
      );
      expect(rows).toHaveLength(1);
      expect(rows[0].password_hash).not.toContain(generated);
      expect(rows[0].password_hash).toMatch(/^\$argon2/);
    });
  });

  describe('before the start is finished', () => {
    it('should create no administrator and answer 503 starting until finishStart runs', async () => {
      const usingPostgres = Boolean(process.env.DATABASE_URL);
      const scratch = usingPostgres
        ? await createScratchDatabase(process.env.DATABASE_URL as string)
        : null;
      const banner: string[] = [];
      const app = await buildApp(
        loadConfig({
          NODE_ENV: 'test',
          ROOMKEY_DATA_DIR: 'memory://',
          ROOMKEY_BOOTSTRAP_ADMIN_EMAIL: ADMIN_EMAIL,
          ...(scratch ? { DATABASE_URL: scratch.url } : {}),
        }),
        { bannerOut: (text) => banner.push(text) },
      );
      try {
        const ds = app.get(DataSource);
        const users = async () => {
          const rows = await ds.query<Array<{ n: number }>>(
            'SELECT count(*)::int AS n FROM app_user',
          );
          return rows[0].n;
        };
        const ready = () =>
          request(app.getHttpServer() as Parameters<typeof request>[0]).get('/health/ready');
        expect(await users()).toBe(0);
        const before = await ready();
        expect(before.status).toBe(503);
        expect(before.body).toMatchObject({ status: 'starting' });

        const created = await finishStart(app);
        expect(created?.email).toBe(ADMIN_EMAIL);
        expect(await users()).toBe(1);
        // The administrator's password is stored at OWASP's Argon2id baseline.
        const [admin] = await ds.query<Array<{ hash: string }>>(
          'SELECT password_hash AS hash FROM app_user',
        );
        expect(admin.hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
        expect((await ready()).status).toBe(200);
        expect(banner).toEqual([]); // the caller prints it, once it has listened
      } finally {
        await app.close();
        await scratch?.drop();
      }
    }, 120_000);
  });

  describe('on a second boot of the same database', () => {
    let db: Awaited<ReturnType<typeof durableDatabase>> | undefined;
    let env: Record<string, string>;
    let firstBanner: string[];
    let second: TestApp;

    beforeAll(async () => {
      // A data folder (or scratch database) that outlives the first app; migrated, no users yet.
      db = await durableDatabase('first-start');
      env = { ...db.env, ROOMKEY_BOOTSTRAP_ADMIN_PASSWORD: '' };
      const first = await startTestApp(env);
      firstBanner = [...first.banner];
      await first.close();
      second = await startTestApp(env);
    }, 180_000);

    afterAll(async () => {
      await second?.close();
      await db?.drop();
    });

    it('should not print the banner again when the admin already exists', () => {
      expect(firstBanner).toHaveLength(1);
      expect(second.banner).toEqual([]);
    });

    it('should keep the first password working when the app restarts', async () => {
      const printed = parseCurl(firstBanner[0]);
      const res = await runPrintedCurl(second, printed, printed.password);
      expect(res.body.data?.me).toEqual({ role: 'OWNER', tenant: { slug: ADMIN_TENANT } });
    });

    it('should keep exactly one administrator and one demo tenant when the app restarts', async () => {
      const [{ users }]: Array<{ users: string }> = await second.ds.query(
        'SELECT count(*) AS users FROM app_user',
      );
      const [{ tenants }]: Array<{ tenants: string }> = await second.ds.query(
        'SELECT count(*) AS tenants FROM tenant WHERE slug = $1',
        [ADMIN_TENANT],
      );
      expect({ users, tenants }).toEqual({ users: '1', tenants: '1' });
    });
  });

  if (process.env.DATABASE_URL) {
    describe('when two instances start together on one PostgreSQL database', () => {
      let scratch: { url: string; drop: () => Promise<void> };
      let apps: TestApp[] = [];

      beforeAll(async () => {
        scratch = await createScratchDatabase(process.env.DATABASE_URL as string);
        const env = { DATABASE_URL: scratch.url, ROOMKEY_BOOTSTRAP_ADMIN_PASSWORD: '' };
        const started = await Promise.allSettled([startTestApp(env), startTestApp(env)]);
        apps = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
      }, 120_000);

      afterAll(async () => {
        for (const app of apps) await app.close();
        await scratch.drop();
      });

      it('should print one banner in total and create one administrator', async () => {
        expect(apps).toHaveLength(2);
        expect(apps.flatMap((a) => a.banner)).toHaveLength(1);
        const [{ n }]: Array<{ n: string }> = await apps[0].ds.query(
          'SELECT count(*) AS n FROM app_user',
        );
        expect(n).toBe('1');
      });
    });
  }
});
