import { EventEmitter } from 'node:events';
import { Logger } from '@nestjs/common';
import { Client } from 'pg';
import {
  type EntityManager,
  type EntitySubscriberInterface,
  type QueryRunner,
  type TransactionCommitEvent,
} from 'typeorm';
import { EVERYTHING, type Invalidation, formatMessage, parseMessage } from './invalidation';
import {
  type InvalidationBus,
  type ListenClient,
  LocalInvalidationBus,
  PG_CHANNEL,
  PgInvalidationBus,
} from './invalidation-bus';

/** The part of a DataSource the bus uses, with its subscribers visible to the test. */
function fakeDataSource(): {
  subscribers: EntitySubscriberInterface[];
  query: jest.Mock;
} {
  return { subscribers: [], query: jest.fn().mockResolvedValue([]) };
}

/** An EntityManager in (or out of) a transaction on `runner`. */
function manager(runner: Partial<QueryRunner> | undefined): EntityManager & { query: jest.Mock } {
  return {
    queryRunner: runner,
    query: jest.fn().mockResolvedValue([]),
  } as unknown as EntityManager & {
    query: jest.Mock;
  };
}

function received(bus: InvalidationBus): Invalidation[][] {
  const got: Invalidation[][] = [];
  bus.subscribe((events) => got.push([...events]));
  return got;
}

async function until(cond: () => boolean, deadlineMs = 3000): Promise<void> {
  const end = Date.now() + deadlineMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met before the deadline');
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** What the bus logged (kept quiet): for the "never the URL" check. */
const logged: unknown[][] = [];
beforeEach(() => {
  logged.length = 0;
  for (const level of ['log', 'warn', 'error'] as const) {
    jest.spyOn(Logger.prototype, level).mockImplementation((...args: unknown[]) => {
      logged.push(args);
    });
  }
});
afterEach(() => jest.restoreAllMocks());

const keyRevoked: Invalidation = { kind: 'api_key', id: '6f1c0a52-0000-4000-8000-000000000001' };

describe('parseMessage', () => {
  it('should read back what formatMessage wrote', () => {
    const events: Invalidation[] = [
      keyRevoked,
      { kind: 'tenant', id: 't-1', slug: 'acme' },
      { kind: 'credential', tenantId: 't-1', id: 'c-1' },
      { kind: 'session', tenantId: 't-1', id: 's-1' },
    ];
    expect(parseMessage(formatMessage('me', events))).toEqual({ origin: 'me', events });
  });

  it('should turn an unreadable or unknown message into "drop everything"', () => {
    for (const payload of [
      'not json',
      '{"o":"x"}',
      '{"o":"x","e":[{"kind":"api_key"}]}',
      '{"o":"x","e":[{"kind":"future_kind","id":"1"}]}',
      '{"o":"x","e":[{"kind":"session","tenantId":"t","id":"a b"}]}',
      'null',
    ]) {
      expect(parseMessage(payload).events).toEqual([EVERYTHING]);
    }
  });

  it('should send "drop everything" instead of a payload PostgreSQL would refuse', () => {
    const many = Array.from({ length: 400 }, (_, i) => ({
      kind: 'session' as const,
      tenantId: 'tenant-0000-0000',
      id: `session-${i}`,
    }));
    const payload = formatMessage('me', many);
    expect(payload.length).toBeLessThan(8000);
    expect(parseMessage(payload).events).toEqual([EVERYTHING]);
  });
});

describe('LocalInvalidationBus', () => {
  it('should deliver at once when the publisher is not in a transaction', async () => {
    const bus = new LocalInvalidationBus(fakeDataSource());
    const got = received(bus);
    await bus.publish(null, keyRevoked);
    expect(got).toEqual([[keyRevoked]]);
    expect(bus.connected).toBe(true);
  });

  it('should deliver only after the outermost transaction commits', async () => {
    const ds = fakeDataSource();
    const bus = new LocalInvalidationBus(ds);
    const got = received(bus);
    const runner = { isTransactionActive: true } as QueryRunner;
    await bus.publish(manager(runner), keyRevoked);
    expect(got).toEqual([]);
    const [hooks] = ds.subscribers;
    // A savepoint released inside the transaction: not committed yet.
    void hooks.afterTransactionCommit?.({ queryRunner: runner } as TransactionCommitEvent);
    expect(got).toEqual([]);
    (runner as { isTransactionActive: boolean }).isTransactionActive = false;
    void hooks.afterTransactionCommit?.({ queryRunner: runner } as TransactionCommitEvent);
    expect(got).toEqual([[keyRevoked]]);
    void hooks.afterTransactionCommit?.({ queryRunner: runner } as TransactionCommitEvent);
    expect(got).toHaveLength(1); // flushed once
  });

  it('should deliver on a rollback too, before ROLLBACK runs (a lost COMMIT may have committed)', async () => {
    const ds = fakeDataSource();
    const bus = new LocalInvalidationBus(ds);
    const got = received(bus);
    const runner = { isTransactionActive: true } as QueryRunner;
    await bus.publish(manager(runner), keyRevoked);
    void ds.subscribers[0].beforeTransactionRollback?.({ queryRunner: runner } as never);
    expect(got).toEqual([[keyRevoked]]);
  });

  it('should still reach the other caches when one listener throws', async () => {
    const bus = new LocalInvalidationBus(fakeDataSource());
    bus.subscribe(() => {
      throw new Error('broken cache');
    });
    const got = received(bus);
    await bus.publish(null, keyRevoked);
    expect(got).toEqual([[keyRevoked]]);
  });

  it('should never report itself connected when built not to serve (the CLI)', () => {
    expect(new LocalInvalidationBus(fakeDataSource(), false).connected).toBe(false);
  });
});

/** A `pg.Client` stand-in: connects (or not), answers probes (or not), emits what a test says. */
class FakeClient extends EventEmitter implements ListenClient {
  readonly queries: string[] = [];
  ended = false;

  constructor(
    private readonly refuse: boolean,
    public answersProbes = true,
  ) {
    super();
  }

  connect(): Promise<void> {
    return this.refuse
      ? Promise.reject(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }))
      : Promise.resolve();
  }

  query(sql: string): Promise<unknown> {
    this.queries.push(sql);
    if (sql === 'SELECT 1' && !this.answersProbes) return new Promise(() => undefined);
    return Promise.resolve([]);
  }

  end(): Promise<void> {
    this.ended = true;
    return Promise.resolve();
  }

  notify(payload: string): void {
    this.emit('notification', { channel: PG_CHANNEL, payload, processId: 1 });
  }
}

describe('PgInvalidationBus (fake connection)', () => {
  let bus: PgInvalidationBus | undefined;
  let clients: FakeClient[];
  /** Whether the next clients refuse to connect. */
  let refuse: boolean;

  function start(listen = true): PgInvalidationBus {
    clients = [];
    bus = new PgInvalidationBus(fakeDataSource(), {
      url: 'postgres://roomkey:CANARY-db-password@127.0.0.1:1/x',
      connectTimeoutMs: 100,
      heartbeatMs: 40,
      listen,
      createClient: () => {
        const c = new FakeClient(refuse);
        clients.push(c);
        return c;
      },
    });
    return bus;
  }

  beforeEach(() => {
    refuse = false;
  });
  afterEach(async () => {
    await bus?.onModuleDestroy();
    bus = undefined;
  });

  it('should serve only once LISTEN runs, and drop everything before it does', async () => {
    const b = start();
    const seen: boolean[] = [];
    b.subscribe(() => seen.push(b.connected));
    expect(b.connected).toBe(false);
    await b.onApplicationBootstrap();
    expect(clients[0].queries).toContain(`LISTEN ${PG_CHANNEL}`);
    expect(seen).toEqual([false]); // the "drop everything" came while not yet serving
    expect(b.connected).toBe(true);
  });

  it("should apply other instances' messages and skip its own", async () => {
    const b = start();
    await b.onApplicationBootstrap();
    const got = received(b);
    clients[0].notify(formatMessage('another-instance', [keyRevoked]));
    clients[0].notify('garbage');
    const m = manager(undefined);
    await b.publish(m, { kind: 'session', tenantId: 't', id: 's' });
    const [, params] = m.query.mock.calls[0] as [string, string[]];
    clients[0].notify(params[1]); // its own NOTIFY, back from the server
    expect(got).toEqual([
      [keyRevoked],
      [EVERYTHING],
      [{ kind: 'session', tenantId: 't', id: 's' }],
    ]);
  });

  it('should send the NOTIFY through the transaction of the change', async () => {
    const b = start();
    const m = manager({ isTransactionActive: true });
    await b.publish(m, keyRevoked);
    expect(m.query).toHaveBeenCalledWith('SELECT pg_notify($1, $2)', [
      PG_CHANNEL,
      expect.stringContaining(keyRevoked.id) as string,
    ]);
  });

  it('should stop serving when the connection drops, and serve again after reconnecting', async () => {
    const b = start();
    await b.onApplicationBootstrap();
    const got = received(b);
    clients[0].emit('error', new Error('Connection terminated unexpectedly'));
    expect(b.connected).toBe(false);
    expect(clients[0].ended).toBe(true);
    await until(() => b.connected);
    expect(clients).toHaveLength(2);
    expect(got).toEqual([[EVERYTHING]]);
    // One line when lost, one when back; never the connection URL (it may hold a password).
    expect(logged).toHaveLength(2);
    expect(JSON.stringify(logged)).not.toContain('CANARY');
  });

  it('should stop serving when a heartbeat is not answered (a silent partition)', async () => {
    const b = start();
    await b.onApplicationBootstrap();
    clients[0].answersProbes = false;
    await until(() => !b.connected);
    await until(() => b.connected); // a new connection, answering again
    expect(clients.length).toBeGreaterThanOrEqual(2);
  });

  it('should keep retrying while the database refuses, without serving', async () => {
    refuse = true;
    const b = start();
    await b.onApplicationBootstrap();
    expect(b.connected).toBe(false);
    await until(() => clients.length >= 2);
    expect(b.connected).toBe(false);
    refuse = false;
    await until(() => b.connected);
  });

  it('should publish without listening when built not to listen (the CLI)', async () => {
    const b = start(false);
    await b.onApplicationBootstrap();
    expect(clients).toHaveLength(0);
    expect(b.connected).toBe(false);
    const m = manager(undefined);
    await b.publish(m, keyRevoked);
    expect(m.query).toHaveBeenCalledTimes(1);
  });

  it('should not reconnect after shutdown', async () => {
    const b = start();
    await b.onApplicationBootstrap();
    await b.onModuleDestroy();
    clients[0].emit('end');
    await new Promise((r) => setTimeout(r, 250));
    expect(clients).toHaveLength(1);
    expect(b.connected).toBe(false);
  });
});

// The real server: needs DATABASE_URL (CI runs the suite on both databases). On the embedded
// database this block is skipped, and says so in its name.
const pgUrl = process.env.DATABASE_URL;
(pgUrl ? describe : describe.skip)(
  `PgInvalidationBus on a real PostgreSQL${pgUrl ? '' : ' (skipped: DATABASE_URL is not set)'}`,
  () => {
    const buses: PgInvalidationBus[] = [];
    const clients: Client[] = [];
    afterAll(async () => {
      for (const b of buses) await b.onModuleDestroy();
      for (const c of clients) await c.end();
    });

    async function connected(): Promise<Client> {
      const c = new Client({ connectionString: pgUrl });
      await c.connect();
      clients.push(c);
      return c;
    }

    it('should deliver a NOTIFY sent in a transaction to another instance only when it commits', async () => {
      const sender = await connected();
      const ds = { subscribers: [], query: (sql: string, p?: unknown[]) => sender.query(sql, p) };
      const options = { url: pgUrl!, connectTimeoutMs: 3000, heartbeatMs: 5000, listen: true };
      const a = new PgInvalidationBus(ds, options);
      const b = new PgInvalidationBus({ subscribers: [], query: jest.fn() }, options);
      buses.push(a, b);
      await Promise.all([a.onApplicationBootstrap(), b.onApplicationBootstrap()]);
      expect(b.connected).toBe(true);
      const got = received(b);

      const tx = await connected();
      await tx.query('BEGIN');
      const inTx = {
        queryRunner: { isTransactionActive: true },
        query: (sql: string, p?: unknown[]) => tx.query(sql, p),
      } as unknown as EntityManager;
      await a.publish(inTx, keyRevoked);
      // A marker committed after it: PostgreSQL delivers in commit order, so once the marker is
      // in, an uncommitted message would have been too.
      const marker: Invalidation = { kind: 'session', tenantId: 't', id: 'marker' };
      await a.publish(null, marker);
      await until(() => got.length > 0, 1000);
      expect(got).toEqual([[marker]]);
      await tx.query('COMMIT');
      await until(() => got.length > 1, 1000);
      expect(got[1]).toEqual([keyRevoked]);
    });
  },
);
