import { type PGlite } from '@electric-sql/pglite';
import { DataSource, type QueryRunner } from 'typeorm';
import { dataSourceOptions } from './data-source.options';
import { isDatabaseUnavailable } from '../common/errors/database-unavailable';
import {
  AcquireTimeoutError,
  ExclusivePGlitePool,
  openPGlite,
  type PGliteClient,
} from './pglite-pool';
import { seedMigratedInMemoryDatabases } from '../../test/helpers/database';

// Opens the suite's migrated snapshot (half a second) instead of running initdb (several): what
// these specs test does not depend on the database's contents.
seedMigratedInMemoryDatabases();

type Lease = { client: PGliteClient; release: (err?: unknown) => void };

function lease(pool: ExclusivePGlitePool): Promise<Lease> {
  return new Promise((resolve, reject) => {
    pool.connect((err, client, release) =>
      err || !client ? reject(err ?? new Error('no client')) : resolve({ client, release }),
    );
  });
}

function endPool(pool: ExclusivePGlitePool): Promise<void> {
  return new Promise((resolve, reject) => pool.end((err) => (err ? reject(err) : resolve())));
}

/** Lets pending promise callbacks (and PGlite's own work) run. */
const settle = (ms = 20): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('ExclusivePGlitePool through TypeORM', () => {
  let ds: DataSource;

  beforeAll(async () => {
    ds = await new DataSource(
      dataSourceOptions({
        url: undefined,
        dataDir: 'memory://',
        inMemory: true,
        poolSize: 1,
        connectTimeoutMs: 3000,
        acquireTimeoutMs: 5000,
        statementTimeoutMs: 3000,
        idleInTransactionTimeoutMs: 30_000,
        maintenanceTimeoutMs: 0,
        embeddedBuffersMb: 128,
      }),
    ).initialize();
    await ds.query('CREATE TABLE pool_probe (id int PRIMARY KEY, who text NOT NULL)');
  });

  afterAll(async () => {
    await ds.destroy();
  });

  beforeEach(async () => {
    await ds.query('DELETE FROM pool_probe');
  });

  it("should keep another runner's commit and drop the rolled-back insert when two runners overlap", async () => {
    const a: QueryRunner = ds.createQueryRunner();
    await a.connect();
    await a.startTransaction();
    await a.query('INSERT INTO pool_probe (id, who) VALUES ($1, $2)', [1, 'A']);

    // B starts while A's transaction is open; it must wait for A's session instead of joining it.
    let bConnected = false;
    const b: QueryRunner = ds.createQueryRunner();
    const bDone = (async () => {
      await b.connect();
      bConnected = true;
      await b.startTransaction();
      await b.query('INSERT INTO pool_probe (id, who) VALUES ($1, $2)', [2, 'B']);
      await b.commitTransaction();
      await b.release();
    })();
    await settle(50);
    expect(bConnected).toBe(false);

    // A still sees only its own row: nothing of B ran inside A's transaction.
    expect(await a.query('SELECT who FROM pool_probe ORDER BY id')).toEqual([{ who: 'A' }]);
    await a.rollbackTransaction();
    await a.release();
    await bDone;

    expect(bConnected).toBe(true);
    expect(await ds.query('SELECT id, who FROM pool_probe ORDER BY id')).toEqual([
      { id: 2, who: 'B' },
    ]);
  });

  it('should run queries of a transaction without interleaving when many ds.transaction calls overlap', async () => {
    // Each transaction inserts, then fails on purpose for odd ids: only even rows may survive.
    const results = await Promise.allSettled(
      Array.from({ length: 6 }, (_, i) =>
        ds.transaction(async (m) => {
          await m.query('INSERT INTO pool_probe (id, who) VALUES ($1, $2)', [i, `T${i}`]);
          await settle(5);
          if (i % 2 === 1) throw new Error(`rollback ${i}`);
        }),
      ),
    );
    expect(results.map((r) => r.status)).toEqual([
      'fulfilled',
      'rejected',
      'fulfilled',
      'rejected',
      'fulfilled',
      'rejected',
    ]);
    const rows: Array<{ id: number }> = await ds.query('SELECT id FROM pool_probe ORDER BY id');
    expect(rows.map((r) => r.id)).toEqual([0, 2, 4]);
  });

  it('should return int8 and numeric as strings when read, like pg', async () => {
    const [row] = await ds.query(
      'SELECT 9007199254740993::int8 AS big, count(*) AS n, 12.50::numeric AS money, 7::int4 AS small, true AS flag FROM pool_probe',
    );
    expect(row).toEqual({ big: '9007199254740993', n: '0', money: '12.50', small: 7, flag: true });
  });

  it('should store booleans when they are passed as parameters', async () => {
    const [row] = await ds.query('SELECT $1::boolean AS t, $2::boolean AS f', [true, false]);
    expect(row).toEqual({ t: true, f: false });
  });

  it('should report affected rows when UPDATE and DELETE change rows', async () => {
    await ds.query("INSERT INTO pool_probe (id, who) VALUES (1, 'x'), (2, 'x'), (3, 'y')");
    const updated = await ds
      .createQueryBuilder()
      .update('pool_probe')
      .set({ who: 'z' })
      .where('who = :w', { w: 'x' })
      .execute();
    expect(updated.affected).toBe(2);
    const none = await ds
      .createQueryBuilder()
      .update('pool_probe')
      .set({ who: 'q' })
      .where('id = 99')
      .execute();
    expect(none.affected).toBe(0);
    const deleted = await ds
      .createQueryBuilder()
      .delete()
      .from('pool_probe')
      .where('who = :w', { w: 'z' })
      .execute();
    expect(deleted.affected).toBe(1 + 1);
    // Raw UPDATE through query(): pg's shape is [rows, rowCount].
    expect(await ds.query("UPDATE pool_probe SET who = 'w'")).toEqual([[], 1]);
  });

  it('should return the last statement result when several statements are sent at once', async () => {
    const runner = ds.createQueryRunner();
    try {
      const rows = await runner.query(
        "INSERT INTO pool_probe VALUES (5, 'm'); SELECT who FROM pool_probe WHERE id = 5",
      );
      expect(rows).toEqual([{ who: 'm' }]);
    } finally {
      await runner.release();
    }
  });
});

describe('ExclusivePGlitePool', () => {
  // Opening PGlite takes seconds: one shared database, a fresh pool (lease state) per test.
  let db: Promise<PGlite>;
  let pool: ExclusivePGlitePool;

  beforeAll(() => {
    db = openPGlite(undefined);
  });

  beforeEach(() => {
    pool = new ExclusivePGlitePool(() => db);
  });

  afterAll(async () => {
    await (await db).close();
  });

  it('should refuse queries when the client has been released', async () => {
    const { client, release } = await lease(pool);
    expect(await client.query('SELECT 1 AS one')).toMatchObject({
      rows: [{ one: 1 }],
      rowCount: 1,
    });
    release();
    await expect(client.query('SELECT 1')).rejects.toThrow(/released/);
    await expect(client.query('SELECT $1::int AS v', [1])).rejects.toThrow(/released/);
  });

  it('should ignore a second release when a client is released twice', async () => {
    const first = await lease(pool);
    first.release();
    const second = await lease(pool); // holds the lease now
    first.release(); // must not free second's lease
    let thirdGranted = false;
    const third = lease(pool).then((l) => {
      thirdGranted = true;
      return l;
    });
    await settle();
    expect(thirdGranted).toBe(false);
    second.release();
    (await third).release();
    expect(thirdGranted).toBe(true);
  });

  it('should serve waiters in arrival order when the session is busy', async () => {
    const order: number[] = [];
    const holder = await lease(pool);
    const waiters = [1, 2, 3, 4].map((n) =>
      lease(pool).then(async (l) => {
        order.push(n);
        await l.client.query('SELECT $1::int AS n', [n]);
        await settle(2);
        l.release();
      }),
    );
    await settle();
    expect(order).toEqual([]);
    holder.release();
    await Promise.all(waiters);
    expect(order).toEqual([1, 2, 3, 4]);
  });

  it('should fail the waiter as database-unavailable when the session stays busy past the acquire timeout', async () => {
    const timed = new ExclusivePGlitePool(() => db, { acquireTimeoutMs: 50 });
    const holder = await lease(timed);
    const err: unknown = await lease(timed).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(AcquireTimeoutError);
    expect(isDatabaseUnavailable(err)).toBe(true);
    // The timed-out waiter left the queue and never held the lease: the holder still has it, and
    // the next client gets the session as soon as the holder returns it.
    let nextGranted = false;
    const next = lease(timed).then((l) => {
      nextGranted = true;
      return l;
    });
    await settle();
    expect(nextGranted).toBe(false);
    holder.release();
    const l = await next;
    expect(await l.client.query('SELECT 1 AS one')).toMatchObject({ rows: [{ one: 1 }] });
    l.release();
  });

  it('should keep waiting without a limit when no acquire timeout is set', async () => {
    const holder = await lease(pool);
    let granted = false;
    const waiter = lease(pool).then((l) => {
      granted = true;
      return l;
    });
    await settle(100);
    expect(granted).toBe(false);
    holder.release();
    (await waiter).release();
    expect(granted).toBe(true);
  });

  it('should report rowCount and command like pg when rows change', async () => {
    const { client, release } = await lease(pool);
    try {
      await client.query('CREATE TABLE rc_probe (id int)');
      const ins = await client.query('INSERT INTO rc_probe VALUES ($1), ($2), ($3)', [1, 2, 3]);
      expect(ins).toMatchObject({ rowCount: 3, command: 'INSERT' });
      const upd = await client.query('UPDATE rc_probe SET id = id + 10 WHERE id > $1', [1]);
      expect(upd).toMatchObject({ rowCount: 2, command: 'UPDATE' });
      const sel = await client.query('SELECT id FROM rc_probe WHERE id > $1 ORDER BY id', [0]);
      expect(sel).toMatchObject({
        rowCount: 3,
        command: 'SELECT',
        rows: [{ id: 1 }, { id: 12 }, { id: 13 }],
      });
    } finally {
      release();
    }
  });

  it('should close the database after the last lease is returned when the pool ends', async () => {
    const own = openPGlite(undefined);
    const ownPool = new ExclusivePGlitePool(() => own);
    const { release } = await lease(ownPool);
    const ended = endPool(ownPool);
    await settle();
    expect((await own).closed).toBe(false);
    release();
    await ended;
    expect((await own).closed).toBe(true);
    // An ended pool hands out nothing more.
    await expect(lease(ownPool)).rejects.toThrow(/ended/);
  });

  it('should hand the database to `dispose` instead of closing it, after the last lease, when given one', async () => {
    const disposed: PGlite[] = [];
    const ownPool = new ExclusivePGlitePool(() => db, {
      dispose: (d) => {
        disposed.push(d);
        return Promise.resolve();
      },
    });
    const { release } = await lease(ownPool);
    const ended = endPool(ownPool);
    await settle();
    expect(disposed).toHaveLength(0);
    release();
    await ended;
    expect(disposed.length === 1 && disposed[0] === (await db)).toBe(true);
    expect((await db).closed).toBe(false);
  });

  it('should hand the same session to consecutive leases when each one finishes', async () => {
    const a = await lease(pool);
    await a.client.query('CREATE TEMP TABLE s (v int)');
    await a.client.query('INSERT INTO s VALUES ($1)', [42]);
    a.release();
    const b = await lease(pool);
    expect((await b.client.query('SELECT v FROM s', [])).rows).toEqual([{ v: 42 }]);
    b.release();
  });
});
