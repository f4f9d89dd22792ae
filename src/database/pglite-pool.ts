import { EventEmitter } from 'node:events';
import { PGlite, type PGliteOptions, types, type Results } from '@electric-sql/pglite';
import { ACQUIRE_TIMEOUT_CODE } from '../common/errors/database-unavailable';
import { countStatement } from './statement-count';

export interface PGlitePoolOptions {
  /** How long a client waits for the session before failing (0 = forever). */
  acquireTimeoutMs?: number;
  /** What the pool's end does with the database (default: close it). */
  dispose?: (db: PGlite) => Promise<void>;
}

/** No lease became free in time: the embedded database is busy (or a lease is stuck). */
export class AcquireTimeoutError extends Error {
  readonly code = ACQUIRE_TIMEOUT_CODE;
  constructor() {
    super('timeout exceeded when trying to connect');
    this.name = 'AcquireTimeoutError';
  }
}

/**
 * A `pg`-compatible pool over one embedded PGlite database, for TypeORM's postgres driver.
 *
 * PGlite is a single PostgreSQL session. Handing that session to several query runners at once
 * (as `typeorm-pglite` does) interleaves their transactions: one request's statements run inside
 * another's BEGIN and vanish with its ROLLBACK. This pool leases the session to one client at a
 * time, in arrival order, exactly like a `pg` pool of size one.
 */
export class ExclusivePGlitePool extends EventEmitter {
  private readonly waiters: Array<() => void> = [];
  private leased = false;
  private ended = false;

  private db: Promise<PGlite> | null = null;

  /** `open` runs on first use, so nothing touches the data files before the caller is ready. */
  constructor(
    private readonly open: () => Promise<PGlite>,
    private readonly options: PGlitePoolOptions = {},
  ) {
    super();
  }

  private database(): Promise<PGlite> {
    this.db ??= this.open();
    return this.db;
  }

  /** `pg.Pool#connect(callback)`: hands out the session once it is free. */
  connect(
    callback: (
      err: Error | null,
      client: PGliteClient | null,
      release: (err?: unknown) => void,
    ) => void,
  ): void {
    if (this.ended) {
      callback(new Error('Pool has ended'), null, () => undefined);
      return;
    }
    this.acquire(this.options.acquireTimeoutMs ?? 0)
      .then(async () => {
        const db = await this.database();
        let released = false;
        const client = new PGliteClient(db, () => released);
        callback(null, client, () => {
          if (released) return;
          released = true;
          this.releaseLease();
        });
      })
      .catch((err: Error) => {
        // A timed-out waiter never held the lease; anything else failed while holding it.
        if (!(err instanceof AcquireTimeoutError)) this.releaseLease();
        callback(err, null, () => undefined);
      });
  }

  /**
   * The pool as `pg.Pool` counts it: one session (`total`), free or not (`idle`), and the clients
   * queued for it (`waiting`).
   */
  stats(): { total: number; idle: number; waiting: number } {
    return { total: 1, idle: this.leased ? 0 : 1, waiting: this.waiters.length };
  }

  /** `pg.Pool#end(callback)`: closes the database once every lease is returned. */
  end(callback?: (err?: Error | null) => void): void {
    this.ended = true;
    this.acquire()
      .then(async () => {
        if (!this.db) return;
        const db = await this.db;
        await (this.options.dispose ? this.options.dispose(db) : db.close());
      })
      .then(
        () => callback?.(null),
        (err: Error) => callback?.(err),
      );
  }

  private acquire(timeoutMs = 0): Promise<void> {
    if (!this.leased) {
      this.leased = true;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      if (timeoutMs <= 0) {
        this.waiters.push(resolve);
        return;
      }
      const waiter = (): void => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        const i = this.waiters.indexOf(waiter);
        if (i >= 0) this.waiters.splice(i, 1);
        reject(new AcquireTimeoutError());
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  private releaseLease(): void {
    const next = this.waiters.shift();
    if (next) next();
    else this.leased = false;
  }
}

interface PgLikeResult {
  rows: unknown[];
  rowCount: number;
  command: string;
  fields: Results['fields'];
}

/** The leased session, shaped like a `pg.Client` for TypeORM's query runner. */
export class PGliteClient extends EventEmitter {
  constructor(
    private readonly db: PGlite,
    private readonly isReleased: () => boolean,
  ) {
    super();
  }

  async query(sql: string, params?: unknown[]): Promise<PgLikeResult> {
    if (this.isReleased()) throw new Error('Query on a released PGlite client');
    countStatement();
    if (params && params.length > 0) {
      return normalise(await this.db.query(sql, params));
    }
    // Without parameters TypeORM may send several statements at once; like pg, return the last.
    const all = await this.db.exec(sql);
    const last = all[all.length - 1];
    return last ? normalise(last) : { rows: [], rowCount: 0, command: '', fields: [] };
  }
}

function normalise(r: Results): PgLikeResult {
  const command = (r as { command?: string }).command ?? '';
  const rowCount =
    (r as { rowCount?: number }).rowCount ??
    (command === 'SELECT' ? r.rows.length : (r.affectedRows ?? 0));
  return { rows: r.rows, rowCount, command, fields: r.fields };
}

let inMemorySeed: Blob | undefined;
let inMemorySource: InMemoryDatabaseSource | undefined;

/**
 * Where in-memory databases come from and where they go when their app closes. Without one, each
 * is opened (from the seed, if any) and closed. The test suite installs one that resets a closed
 * app's database and hands it to the next app: an open costs about 0.7 s of CPU, a reset a tenth.
 */
export interface InMemoryDatabaseSource {
  open(): Promise<PGlite>;
  dispose(db: PGlite): Promise<void>;
}

/** Installs (or, with undefined, removes) the source of in-memory databases opened from now on. */
export function provideInMemoryDatabases(source: InMemoryDatabaseSource | undefined): void {
  inMemorySource = source;
}

/** The installed source of in-memory databases, if any. */
export function inMemoryDatabaseSource(): InMemoryDatabaseSource | undefined {
  return inMemorySource;
}

/**
 * In-memory databases opened after this call start as a copy of `snapshot` (a `dumpDataDir`
 * archive) instead of running initdb: the test suite migrates once and seeds every app from that.
 */
export function seedInMemoryDatabases(snapshot: Blob | undefined): void {
  inMemorySeed = snapshot;
}

/**
 * The buffer pool of an in-memory database. Its files already live in the same WebAssembly heap,
 * so PostgreSQL's default 128 MB pool only copies pages that are in memory anyway, and setting it
 * up is half of an open: about 0.55 s instead of 1.0 s of CPU for the test suite's migrated
 * snapshot (a standalone `PGlite.create` loop), and 50 to 100 MB less RSS in `npm run bench`.
 * A data folder's pool caches the disk: PostgreSQL's 128 MB unless ROOMKEY_DB_EMBEDDED_BUFFERS_MB
 * says otherwise (the test suite sets 16: each open of a data folder then costs about 0.3 s of CPU
 * instead of 1.0).
 */
const IN_MEMORY_BUFFERS = '16MB';

interface OpenOptions {
  /** A data folder's buffer pool in MB (config `database.embeddedBuffersMb`). */
  buffersMb?: number;
}

/**
 * Opens PGlite with `pg`'s type conventions, so both databases give the application the same
 * values: int8 and numeric arrive as strings, as `pg` returns them.
 */
export function openPGlite(
  dataDir: string | undefined,
  { buffersMb = 128, ...options }: Pick<PGliteOptions, 'initDbStartParams'> & OpenOptions = {},
): Promise<PGlite> {
  const buffers = dataDir ? `${buffersMb}MB` : IN_MEMORY_BUFFERS;
  return PGlite.create({
    ...options,
    ...(dataDir ? { dataDir } : inMemorySeed ? { loadDataDir: inMemorySeed } : {}),
    startParams: [...PGlite.defaultStartParams, '-c', `shared_buffers=${buffers}`],
    parsers: { [types.INT8]: (v: string) => v, [types.NUMERIC]: (v: string) => v },
    serializers: {
      [types.BOOL]: (v: unknown) => (v === true || v === 'true' || v === 1 ? 't' : 'f'),
    },
  });
}

/** The object TypeORM expects as `driver` for `type: 'postgres'`. */
export function pgliteDriver(
  open: () => Promise<PGlite>,
  options: PGlitePoolOptions = {},
): { Pool: new () => ExclusivePGlitePool } {
  return {
    Pool: class extends ExclusivePGlitePool {
      constructor() {
        super(open, options);
      }
    },
  };
}
