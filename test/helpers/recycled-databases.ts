import { setTimeout as sleep } from 'node:timers/promises';
import { type PGlite } from '@electric-sql/pglite';
import { type InMemoryDatabaseSource, openPGlite } from '../../src/database/pglite-pool';

/**
 * In-memory databases for test apps, reused within a test file. Opening one from the suite's
 * migrated snapshot costs about 0.7 s of CPU; when an app closes, its database is instead emptied
 * and handed to the next app, for a tenth of that.
 *
 * Emptying undoes what the application does to a database: the rows of every table but
 * `migrations`, and the session's state (an open transaction, settings, prepared statements,
 * LISTEN, advisory locks, temporary tables). What a test may do besides (create a table or a
 * trigger, disable one, rename a table, delete a migration row, create a role) is not undone but
 * detected: such a database is closed, and the next app gets a new one.
 */

/**
 * Everything a reset does not restore, as one digest: user objects (OIDs from 16384 on) in the
 * catalogs, the triggers' enabled state, functions' bodies, settings stored per role or database,
 * and the rows of `migrations`.
 */
const FINGERPRINT = `SELECT md5(concat_ws('|',
  (SELECT string_agg(format('%s.%s:%s:%s:%s', relnamespace, relname, relkind, relrowsecurity, relacl), ',' ORDER BY oid) FROM pg_class WHERE oid >= 16384),
  (SELECT string_agg(format('%s.%s:%s:%s:%s:%s', attrelid, attname, atttypid, attnotnull, atthasdef, attisdropped), ',' ORDER BY attrelid, attnum) FROM pg_attribute WHERE attrelid >= 16384),
  (SELECT string_agg(format('%s:%s:%s:%s', tgrelid, tgname, tgenabled, tgfoid), ',' ORDER BY oid) FROM pg_trigger WHERE oid >= 16384),
  (SELECT string_agg(format('%s:%s', proname, md5(prosrc)), ',' ORDER BY oid) FROM pg_proc WHERE oid >= 16384),
  (SELECT string_agg(format('%s:%s:%s', typname, typnamespace, typtype), ',' ORDER BY oid) FROM pg_type WHERE oid >= 16384),
  (SELECT string_agg(format('%s:%s', enumtypid, enumlabel), ',' ORDER BY oid) FROM pg_enum),
  (SELECT string_agg(format('%s:%s:%s:%s', conname, contype, conrelid, md5(pg_get_constraintdef(oid))), ',' ORDER BY oid) FROM pg_constraint WHERE oid >= 16384),
  (SELECT string_agg(format('%s:%s', nspname, nspacl), ',' ORDER BY oid) FROM pg_namespace WHERE oid >= 16384 AND nspname NOT LIKE 'pg\\_%temp\\_%'),
  (SELECT string_agg(rolname, ',' ORDER BY oid) FROM pg_roles WHERE oid >= 16384),
  (SELECT string_agg(array_to_string(setconfig, ';'), ',' ORDER BY setdatabase, setrole) FROM pg_db_role_setting),
  (SELECT string_agg(rulename, ',' ORDER BY oid) FROM pg_rewrite WHERE oid >= 16384),
  (SELECT string_agg(polname, ',' ORDER BY oid) FROM pg_policy),
  (SELECT string_agg(extname, ',' ORDER BY oid) FROM pg_extension),
  (SELECT string_agg(format('%s:%s', id, name), ',' ORDER BY id) FROM migrations)
)) AS digest`;

/** Where a test file's RecycledDatabases is found by test/support/after-env.ts. */
export const RECYCLED_DATABASES = Symbol.for('roomkey.test.recycledDatabases');

/** Past this many apps a database is closed anyway: its WAL and dead catalog rows only grow. */
const MAX_USES = 25;
/** Databases kept ready for the next app; more are closed. */
const MAX_FREE = 2;
/** A reset that takes longer than this (a database a test left stuck) gives the database up. */
const RESET_TIMEOUT_MS = 5000;

interface Pedigree {
  digest: string;
  uses: number;
}

export class RecycledDatabases implements InMemoryDatabaseSource {
  private readonly free: PGlite[] = [];
  private readonly pedigree = new WeakMap<PGlite, Pedigree>();
  private closing = false;
  /** Counted for the suite's own test of this class. */
  readonly counts = { opened: 0, reused: 0, discarded: 0 };

  /** Databases kept for the next app. */
  get kept(): number {
    return this.free.length;
  }

  async open(): Promise<PGlite> {
    const reused = this.free.pop();
    if (reused) {
      this.counts.reused++;
      return reused;
    }
    const db = await openPGlite(undefined);
    this.counts.opened++;
    this.pedigree.set(db, { digest: await digest(db), uses: 0 });
    return db;
  }

  async dispose(db: PGlite): Promise<void> {
    const p = this.pedigree.get(db);
    if (p && !this.closing && !db.closed && ++p.uses < MAX_USES && this.free.length < MAX_FREE) {
      const stop = new AbortController();
      const outcome = await Promise.race([
        reset(db, p.digest).catch(() => false),
        sleep(RESET_TIMEOUT_MS, 'stuck' as const, { signal: stop.signal }),
      ]).finally(() => stop.abort());
      if (outcome === true) {
        this.free.push(db);
        return;
      }
      if (outcome === 'stuck') {
        // Stuck: closing would wait on it too. It is left to the garbage collector.
        this.counts.discarded++;
        return;
      }
    }
    this.counts.discarded++;
    if (!db.closed) await db.close().catch(() => undefined);
  }

  /** Closes the databases kept for later, and any disposed of from now on: a test file's end. */
  async closeAll(): Promise<void> {
    this.closing = true;
    const all = this.free.splice(0);
    await Promise.all(all.map((db) => db.close().catch(() => undefined)));
  }
}

async function digest(db: PGlite): Promise<string> {
  const r = await db.query<{ digest: string }>(FINGERPRINT);
  return r.rows[0].digest;
}

/** Empties the database for the next app; false when it differs in what emptying cannot undo. */
async function reset(db: PGlite, expected: string): Promise<boolean> {
  // ROLLBACK outside a transaction is only a warning; DISCARD ALL refuses to run inside one.
  await db.exec('ROLLBACK');
  await db.exec('DISCARD ALL');
  if ((await digest(db)) !== expected) return false;
  const tables = await db.query<{ name: string }>(
    `SELECT format('%I.%I', schemaname, tablename) AS name FROM pg_tables
      WHERE schemaname = 'public' AND tablename <> 'migrations'`,
  );
  // Replica mode skips the triggers, audit_event's TRUNCATE guard among them.
  await db.exec('SET session_replication_role = replica');
  await db.exec(`TRUNCATE ${tables.rows.map((t) => t.name).join(', ')} RESTART IDENTITY CASCADE`);
  await db.exec('RESET session_replication_role');
  return true;
}
