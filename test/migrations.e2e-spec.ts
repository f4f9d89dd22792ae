import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { type DataSource } from 'typeorm';
import { loadConfig } from '../src/common/config';
import { openDatabase } from '../src/database/database.module';
import { createScratchDatabase } from './helpers/database';

/** Migration class names (`<Name><timestamp>`) derived from the files in migrations/, sorted. */
function migrationNamesOnDisk(): string[] {
  return fs
    .readdirSync(path.join(__dirname, '..', 'migrations'))
    .filter((f) => /\.ts$/.test(f) && !f.endsWith('.d.ts'))
    .map((f) => {
      const m = /^(\d+)-(.+)\.ts$/.exec(f);
      if (!m) throw new Error(`unexpected migration file name ${f}`);
      return `${m[2]}${m[1]}`;
    })
    .sort();
}

async function appliedMigrations(ds: DataSource): Promise<Array<{ name: string; n: number }>> {
  const rows: Array<{ name: string; n: string }> = await ds.query(
    'SELECT name, count(*) AS n FROM migrations GROUP BY name ORDER BY name',
  );
  return rows.map((r) => ({ name: r.name, n: Number(r.n) }));
}

async function tables(ds: DataSource): Promise<string[]> {
  const rows: Array<{ table_name: string }> = await ds.query(
    "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name",
  );
  return rows.map((r) => r.table_name);
}

const CORE_TABLES = ['api_key', 'app_user', 'membership', 'migrations', 'tenant'];

if (process.env.DATABASE_URL) {
  const baseUrl = process.env.DATABASE_URL;

  describe('migrations on PostgreSQL (DATABASE_URL)', () => {
    let scratch: { url: string; drop: () => Promise<void> };
    const opened: DataSource[] = [];

    beforeAll(async () => {
      scratch = await createScratchDatabase(baseUrl, { empty: true });
    });

    afterAll(async () => {
      for (const ds of opened) if (ds.isInitialized) await ds.destroy();
      await scratch.drop();
    });

    it('should apply every migration exactly once when two instances start at the same time', async () => {
      const config = loadConfig({
        NODE_ENV: 'test',
        DATABASE_URL: scratch.url,
        ROOMKEY_DB_POOL_SIZE: '2',
      });
      const results = await Promise.allSettled([openDatabase(config), openDatabase(config)]);
      for (const r of results) if (r.status === 'fulfilled') opened.push(r.value);
      expect(results.map((r) => (r.status === 'rejected' ? String(r.reason) : 'ok'))).toEqual([
        'ok',
        'ok',
      ]);

      const onDisk = migrationNamesOnDisk();
      expect(onDisk.length).toBeGreaterThan(0);
      expect(opened[0].migrations.map((m) => m.name).sort()).toEqual(onDisk);
      const applied = await appliedMigrations(opened[0]);
      expect(applied).toEqual(onDisk.map((name) => ({ name, n: 1 })));
      expect(await appliedMigrations(opened[1])).toEqual(applied);
    });

    it('should leave nothing pending when the schema is up to date', async () => {
      expect(opened).toHaveLength(2);
      for (const ds of opened) expect(await ds.showMigrations()).toBe(false);
      expect(await tables(opened[1])).toEqual(expect.arrayContaining(CORE_TABLES));
    });

    it('should apply nothing when a third instance starts on a migrated database', async () => {
      const config = loadConfig({ NODE_ENV: 'test', DATABASE_URL: scratch.url });
      const third = await openDatabase(config);
      opened.push(third);
      expect(await appliedMigrations(third)).toEqual(
        migrationNamesOnDisk().map((name) => ({ name, n: 1 })),
      );
    });

    it('should start when ROOMKEY_DB_POOL_SIZE is 1', async () => {
      // The smallest pool the configuration accepts must not deadlock the migration lock:
      // a liveness bound, not a speed check.
      const config = loadConfig({
        NODE_ENV: 'test',
        DATABASE_URL: scratch.url,
        ROOMKEY_DB_POOL_SIZE: '1',
      });
      const opening = openDatabase(config);
      opening.then((ds) => opened.push(ds)).catch(() => undefined);
      let timer: NodeJS.Timeout | undefined;
      const outcome = await Promise.race([
        opening.then(() => 'opened'),
        new Promise<string>((resolve) => {
          timer = setTimeout(() => resolve('still waiting after 20s'), 20_000);
        }),
      ]).finally(() => clearTimeout(timer));
      expect(outcome).toBe('opened');
    }, 30_000);
  });
} else {
  describe('migrations on the embedded database (no DATABASE_URL)', () => {
    it('should create the schema and record every migration once when an in-memory database opens', async () => {
      const ds = await openDatabase(
        loadConfig({ NODE_ENV: 'test', ROOMKEY_DATA_DIR: 'memory://' }),
      );
      try {
        const onDisk = migrationNamesOnDisk();
        expect(onDisk.length).toBeGreaterThan(0);
        expect(ds.migrations.map((m) => m.name).sort()).toEqual(onDisk);
        expect(await appliedMigrations(ds)).toEqual(onDisk.map((name) => ({ name, n: 1 })));
        expect(await tables(ds)).toEqual(expect.arrayContaining(CORE_TABLES));
        expect(await ds.showMigrations()).toBe(false);
        // The schema is usable, not just present.
        const [{ n }]: Array<{ n: string }> = await ds.query('SELECT count(*) AS n FROM tenant');
        expect(n).toBe('0');
      } finally {
        await ds.destroy();
      }
    });

    describe('in a data folder', () => {
      let dataDir: string;

      beforeAll(() => {
        dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'roomkey-migrations-'));
      });

      afterAll(() => {
        fs.rmSync(dataDir, { recursive: true, force: true });
      });

      it('should refuse a second open of the same folder when one is already open in this process', async () => {
        const config = loadConfig({ NODE_ENV: 'test', ROOMKEY_DATA_DIR: dataDir });
        const results = await Promise.allSettled([openDatabase(config), openDatabase(config)]);
        const ok = results.filter(
          (r): r is PromiseFulfilledResult<DataSource> => r.status === 'fulfilled',
        );
        const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
        try {
          expect(ok).toHaveLength(1);
          expect(refused).toHaveLength(1);
          expect(String(refused[0].reason)).toMatch(/already open in this process/);
          const ds = ok[0].value;
          expect(await appliedMigrations(ds)).toEqual(
            migrationNamesOnDisk().map((name) => ({ name, n: 1 })),
          );
          expect(fs.existsSync(path.join(dataDir, 'pgdata'))).toBe(true);
        } finally {
          for (const r of ok) await r.value.destroy();
        }
      }, 120_000);

      it('should keep the schema and apply nothing when the folder is opened again', async () => {
        // openDatabase outside Nest leaves its lock behind; a lock naming a dead process is taken over.
        fs.writeFileSync(path.join(dataDir, 'roomkey.pid'), '2147483646');
        const ds = await openDatabase(loadConfig({ NODE_ENV: 'test', ROOMKEY_DATA_DIR: dataDir }));
        try {
          expect(await appliedMigrations(ds)).toEqual(
            migrationNamesOnDisk().map((name) => ({ name, n: 1 })),
          );
          expect(await tables(ds)).toEqual(expect.arrayContaining(CORE_TABLES));
          expect(fs.readFileSync(path.join(dataDir, 'roomkey.pid'), 'utf8')).toBe(
            String(process.pid),
          );
          // PostgreSQL's default buffer pool, unless ROOMKEY_DB_EMBEDDED_BUFFERS_MB is set.
          expect(await ds.query('SHOW shared_buffers')).toEqual([{ shared_buffers: '128MB' }]);
        } finally {
          await ds.destroy();
        }
      }, 120_000);

      it('should give the folder the buffer pool ROOMKEY_DB_EMBEDDED_BUFFERS_MB names', async () => {
        const ds = await openDatabase(
          loadConfig({
            NODE_ENV: 'test',
            ROOMKEY_DATA_DIR: dataDir,
            ROOMKEY_DB_EMBEDDED_BUFFERS_MB: '24',
          }),
        );
        try {
          expect(await ds.query('SHOW shared_buffers')).toEqual([{ shared_buffers: '24MB' }]);
          expect(await appliedMigrations(ds)).toEqual(
            migrationNamesOnDisk().map((name) => ({ name, n: 1 })),
          );
        } finally {
          await ds.destroy();
        }
      }, 120_000);
    });
  });
}
