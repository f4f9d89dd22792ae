import { randomBytes } from 'node:crypto';
import { Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { Client, type ClientConfig, type Notification } from 'pg';
import {
  type EntityManager,
  type EntitySubscriberInterface,
  type QueryRunner,
  type TransactionCommitEvent,
  type TransactionRollbackEvent,
} from 'typeorm';
import { describeDatabaseError } from '../errors/database-unavailable';
import { EVERYTHING, type Invalidation, formatMessage, parseMessage } from './invalidation';

export type InvalidationListener = (events: readonly Invalidation[]) => void;

/** What the bus uses of the DataSource: its subscribers (commit hooks) and a query to NOTIFY. */
export interface BusDataSource {
  subscribers: EntitySubscriberInterface[];
  query(sql: string, parameters?: unknown[]): Promise<unknown>;
}

/**
 * Carries cache invalidations to every instance.
 *
 * `publish(m, …)` inside a transaction: other instances hear it when the transaction commits
 * (PostgreSQL delivers a NOTIFY only then, and never for a rollback), and this instance's caches
 * drop their entries right after COMMIT returns — not before, or a request running in between
 * would read the old row and cache it again. The caches serve only while `connected` is true: a
 * bus that cannot guarantee it hears every invalidation turns them off.
 */
export abstract class InvalidationBus {
  protected readonly logger = new Logger('CacheBus');
  /** Tells this instance's own messages apart when they come back from PostgreSQL. */
  protected readonly origin = randomBytes(9).toString('base64url');
  private readonly listeners: InvalidationListener[] = [];
  private readonly pending = new WeakMap<QueryRunner, Invalidation[]>();

  constructor(protected readonly ds: BusDataSource) {
    ds.subscribers.push(this.afterCommit());
  }

  /** True while every invalidation published anywhere is known to reach this instance. */
  abstract get connected(): boolean;

  /** Sends to the other instances, inside `m`'s transaction when there is one. */
  protected abstract send(m: EntityManager | null, payload: string): Promise<void>;

  subscribe(listener: InvalidationListener): void {
    this.listeners.push(listener);
  }

  async publish(m: EntityManager | null, ...events: Invalidation[]): Promise<void> {
    if (events.length === 0) return;
    await this.send(m, formatMessage(this.origin, events));
    const runner = m?.queryRunner;
    if (runner?.isTransactionActive) {
      const list = this.pending.get(runner) ?? [];
      list.push(...events);
      this.pending.set(runner, list);
    } else {
      this.deliver(events);
    }
  }

  /** Hands events to this instance's caches. A failing listener must not spare the others. */
  protected deliver(events: readonly Invalidation[]): void {
    for (const listener of this.listeners) {
      try {
        listener(events);
      } catch (err) {
        this.logger.error({ err }, 'a cache failed to apply an invalidation');
      }
    }
  }

  /**
   * Flushes a transaction's events once it is over. A rollback flushes too (dropping entries that
   * did not change costs one reload) and is flushed early, before ROLLBACK runs: a connection lost
   * during COMMIT ends in a failed ROLLBACK, and the commit may have happened.
   */
  private afterCommit(): EntitySubscriberInterface {
    const flush = (runner: QueryRunner, done: boolean): void => {
      const events = this.pending.get(runner);
      if (!events) return;
      if (done) this.pending.delete(runner);
      this.deliver(events);
    };
    return {
      afterTransactionCommit: ({ queryRunner }: TransactionCommitEvent) => {
        // A nested transaction's savepoint released: the outer one has not committed yet.
        if (!queryRunner.isTransactionActive) flush(queryRunner, true);
      },
      beforeTransactionRollback: ({ queryRunner }: TransactionRollbackEvent) =>
        flush(queryRunner, false),
      afterTransactionRollback: ({ queryRunner }: TransactionRollbackEvent) => {
        if (!queryRunner.isTransactionActive) flush(queryRunner, true);
      },
    };
  }
}

/** The embedded database serves one process: invalidations only need to reach this one. */
export class LocalInvalidationBus extends InvalidationBus {
  constructor(
    ds: BusDataSource,
    private readonly serve = true,
  ) {
    super(ds);
  }

  get connected(): boolean {
    return this.serve;
  }

  protected send(): Promise<void> {
    return Promise.resolve();
  }
}

export const PG_CHANNEL = 'roomkey_cache';

/** What the bus needs of a `pg.Client` (a fake one in unit tests). */
export interface ListenClient {
  connect(): Promise<unknown>;
  query(sql: string): Promise<unknown>;
  end(): Promise<unknown>;
  on(event: 'notification', fn: (msg: Notification) => void): unknown;
  on(event: 'error', fn: (err: Error) => void): unknown;
  on(event: 'end', fn: () => void): unknown;
}

export interface PgBusOptions {
  url: string;
  connectTimeoutMs: number;
  /** How often the listening connection is probed with `SELECT 1`. */
  heartbeatMs: number;
  /** False: publish only (the CLI), and never serve from the caches. */
  listen: boolean;
  /** Tests replace the connection. */
  createClient?: (config: ClientConfig) => ListenClient;
}

const RETRY_MIN_MS = 100;
const RETRY_MAX_MS = 5000;

/**
 * PostgreSQL LISTEN/NOTIFY. Publishing is `SELECT pg_notify(…)` on the caller's transaction, so
 * the message and the change commit together. Listening takes one dedicated connection outside
 * the pool; while it is down (or fails its heartbeat) `connected` is false and the caches are
 * bypassed. When it is back, everything is dropped first: whatever was published meanwhile is
 * lost, so nothing cached before may be trusted.
 */
export class PgInvalidationBus
  extends InvalidationBus
  implements OnApplicationBootstrap, OnModuleDestroy
{
  private client: ListenClient | null = null;
  private up = false;
  private stopped = false;
  private retryMs = RETRY_MIN_MS;
  private retryTimer: NodeJS.Timeout | null = null;
  private heartbeat: NodeJS.Timeout | null = null;
  private outageLogged = false;

  constructor(
    ds: BusDataSource,
    private readonly options: PgBusOptions,
  ) {
    super(ds);
  }

  get connected(): boolean {
    return this.up;
  }

  protected async send(m: EntityManager | null, payload: string): Promise<void> {
    await (m ?? this.ds).query('SELECT pg_notify($1, $2)', [PG_CHANNEL, payload]);
  }

  /** Waits for the first connection attempt; a failed one is retried in the background. */
  async onApplicationBootstrap(): Promise<void> {
    if (this.options.listen) await this.connect();
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    this.up = false;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    if (this.heartbeat) clearInterval(this.heartbeat);
    const client = this.client;
    this.client = null;
    await client?.end().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    const make = this.options.createClient ?? ((c: ClientConfig) => new Client(c));
    const client = make({
      connectionString: this.options.url,
      application_name: 'roomkey-cache-bus',
      connectionTimeoutMillis: this.options.connectTimeoutMs,
      keepAlive: true,
      keepAliveInitialDelayMillis: 10_000,
    });
    this.client = client;
    client.on('notification', (msg: Notification) => this.received(client, msg));
    client.on('error', (err: Error) => this.lost(client, err));
    client.on('end', () => this.lost(client, null));
    try {
      await client.connect();
      await client.query(`LISTEN ${PG_CHANNEL}`);
    } catch (err) {
      this.lost(client, err);
      return;
    }
    if (this.client !== client || this.stopped) return;
    this.deliver([EVERYTHING]); // before `up`: nothing cached while we were deaf survives
    this.up = true;
    this.retryMs = RETRY_MIN_MS;
    if (this.outageLogged) this.logger.log('cache invalidation listener is back: caches on');
    this.outageLogged = false;
    this.heartbeat = setInterval(() => this.probe(client), this.options.heartbeatMs);
    this.heartbeat.unref();
  }

  private received(client: ListenClient, msg: Notification): void {
    if (client !== this.client || msg.channel !== PG_CHANNEL) return;
    const { origin, events } = parseMessage(msg.payload ?? '');
    if (origin !== this.origin) this.deliver(events);
  }

  /** A silent partition does not close the socket: a probe that is not answered in time does. */
  private probe(client: ListenClient): void {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('heartbeat timed out')), this.options.heartbeatMs);
    });
    Promise.race([client.query('SELECT 1'), timeout])
      .catch((err: unknown) => this.lost(client, err))
      .finally(() => clearTimeout(timer));
  }

  private lost(client: ListenClient, err: unknown): void {
    if (client !== this.client) return; // an older connection, already replaced
    this.up = false;
    this.client = null;
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = null;
    client.end().catch(() => undefined);
    if (this.stopped) return;
    if (!this.outageLogged) {
      this.logger.warn(
        { db: err ? describeDatabaseError(err) : null },
        'cache invalidation listener lost: serving without caches until it is back',
      );
      this.outageLogged = true;
    }
    const wait = this.retryMs;
    this.retryMs = Math.min(this.retryMs * 2, RETRY_MAX_MS);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      void this.connect();
    }, wait);
    this.retryTimer.unref();
  }
}
