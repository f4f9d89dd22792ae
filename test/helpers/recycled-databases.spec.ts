import { type PGlite } from '@electric-sql/pglite';
import { seedMigratedInMemoryDatabases } from './database';
import { RecycledDatabases } from './recycled-databases';

/**
 * The reuse of in-memory databases between test apps (test/helpers/recycled-databases.ts): a
 * reused database must be indistinguishable from a new one to the next app, and one a test changed
 * in a way emptying cannot undo must never be reused.
 */
describe('RecycledDatabases', () => {
  let source: RecycledDatabases;

  beforeAll(() => seedMigratedInMemoryDatabases());
  /** Every database a test opened: the ones it still holds are closed after it, too. */
  let opened: PGlite[];
  beforeEach(() => {
    source = new RecycledDatabases();
    opened = [];
    const open = source.open.bind(source);
    source.open = async () => {
      const db = await open();
      opened.push(db);
      return db;
    };
  });
  afterEach(async () => {
    await source.closeAll();
    for (const db of opened) if (!db.closed) await db.close();
  });

  const count = async (db: PGlite, table: string): Promise<number> =>
    Number((await db.query<{ n: string }>(`SELECT count(*) AS n FROM ${table}`)).rows[0].n);

  /** Rows in tables that reference each other, and one in the append-only audit log. */
  async function fill(db: PGlite): Promise<void> {
    await db.exec(
      `INSERT INTO tenant (slug, name) VALUES ('acme', 'Acme');
       INSERT INTO app_user (email, display_name, password_hash) VALUES ('a@acme.test', 'A', 'x');
       INSERT INTO membership (tenant_id, user_id, role)
         SELECT t.id, u.id, 'OWNER' FROM tenant t, app_user u;
       INSERT INTO audit_event (id, tenant_id, seq, occurred_at, actor_type, actor_label,
           auth_method, action, outcome, prev_hash, hash, key_id)
         SELECT gen_random_uuid(), id, 1, now(), 'system', 'test', 'none', 'probe', 'SUCCESS',
           repeat('0', 64), repeat('1', 64), 'k1' FROM tenant`,
    );
  }

  it('should hand the next app the same database, emptied, with its migrations', async () => {
    const db = await source.open();
    const migrations = await count(db, 'migrations');
    expect(migrations).toBeGreaterThan(0);
    await fill(db);
    expect(await count(db, 'membership')).toBe(1);
    expect(await count(db, 'audit_event')).toBe(1);
    await source.dispose(db);

    const again = await source.open();
    expect(again === db).toBe(true);
    expect(source.counts).toEqual({ opened: 1, reused: 1, discarded: 0 });
    for (const table of ['tenant', 'app_user', 'membership', 'audit_event']) {
      expect(await count(again, table)).toBe(0);
    }
    expect(await count(again, 'migrations')).toBe(migrations);
    // The new rows work as in a new database.
    await fill(again);
    expect(await count(again, 'membership')).toBe(1);
  });

  it('should keep audit_event append-only after emptying it', async () => {
    const db = await source.open();
    await source.dispose(db);
    const again = await source.open();
    expect(again === db).toBe(true);
    expect(
      (await again.query<{ r: string }>(`SELECT current_setting('session_replication_role') AS r`))
        .rows[0].r,
    ).toBe('origin');
    await expect(again.exec('TRUNCATE audit_event')).rejects.toThrow(/append-only/i);
  });

  it('should leave nothing of the last session: transaction, settings, locks, listeners, temporary tables', async () => {
    const db = await source.open();
    await db.exec(`SET statement_timeout = '1234ms'`);
    await db.exec(`SELECT pg_advisory_lock(42)`);
    await db.exec(`CREATE TEMP TABLE scratch (n int)`);
    await db.exec(`LISTEN some_channel`);
    await db.exec(`PREPARE probe AS SELECT 1`);
    await db.exec(`BEGIN; INSERT INTO tenant (slug, name) VALUES ('open', 'Open')`);
    await source.dispose(db);

    const again = await source.open();
    expect(again === db).toBe(true);
    expect(
      (await again.query<{ s: string }>(`SELECT current_setting('statement_timeout') AS s`)).rows[0]
        .s,
    ).toBe('0');
    expect(await count(again, `pg_locks WHERE locktype = 'advisory'`)).toBe(0);
    expect(await count(again, `pg_class WHERE relname = 'scratch'`)).toBe(0);
    expect(await count(again, 'pg_listening_channels()')).toBe(0);
    expect(await count(again, 'pg_prepared_statements')).toBe(0);
    expect(await count(again, 'tenant')).toBe(0);
    expect(
      (await again.query<{ s: string }>('SELECT txid_current_if_assigned() AS s')).rows[0].s,
    ).toBeNull();
  });

  // Each changes what emptying does not restore; the database must be closed, not reused.
  it.each<[string, string]>([
    ['a new table', 'CREATE TABLE probe (id int)'],
    ['a renamed table', 'ALTER TABLE api_key RENAME TO api_key_hidden'],
    ['a new column', 'ALTER TABLE tenant ADD COLUMN extra text'],
    ['a disabled trigger', 'ALTER TABLE audit_event DISABLE TRIGGER audit_event_append_only'],
    [
      'a new function and trigger',
      `CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'no'; END $$;
       CREATE TRIGGER refuse BEFORE INSERT ON api_key FOR EACH ROW EXECUTE FUNCTION refuse()`,
    ],
    ['a dropped index', 'DROP INDEX ix_audit_event_tenant_actor'],
    [
      'a deleted migration row',
      'DELETE FROM migrations WHERE id = (SELECT max(id) FROM migrations)',
    ],
    ['a role', 'CREATE ROLE probe_role'],
    ['a database setting', `ALTER DATABASE postgres SET work_mem = '8MB'`],
  ])('should close, not reuse, a database with %s', async (_what, sql) => {
    const db = await source.open();
    await db.exec(sql);
    await source.dispose(db);
    expect(db.closed).toBe(true);
    expect(source.counts).toEqual({ opened: 1, reused: 0, discarded: 1 });
    expect(source.kept).toBe(0);
  });

  it('should give the next app a new database after closing an altered one', async () => {
    const db = await source.open();
    await db.exec('CREATE TABLE probe (id int)');
    await source.dispose(db);
    const fresh = await source.open();
    expect(fresh === db).toBe(false);
    expect(fresh.closed).toBe(false);
    expect(source.counts).toEqual({ opened: 2, reused: 0, discarded: 1 });
    expect(await count(fresh, `pg_class WHERE relname = 'probe'`)).toBe(0);
  });

  it('should close what it keeps, and what is disposed of afterwards, once the file ends', async () => {
    const a = await source.open();
    const b = await source.open();
    await source.dispose(a);
    await source.closeAll();
    expect(a.closed).toBe(true);
    await source.dispose(b);
    expect(b.closed).toBe(true);
  });
});
