import { Injectable, type OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { MetricsService, type PoolView } from '../common/metrics/metrics.service';

type ConnectCallback = (err: Error | null, client: unknown, release: unknown) => void;

/** What the metrics need of a pool: `pg.Pool`, or the embedded ExclusivePGlitePool. */
export interface MeasuredPool {
  connect(callback?: ConnectCallback): unknown;
  totalCount?: number;
  idleCount?: number;
  waitingCount?: number;
  stats?: () => PoolView;
}

/**
 * Measures the wait for a connection where TypeORM asks for one (`pool.connect`, callback form),
 * and reads the pool's counts at scrape time. On PostgreSQL that is pg-pool's own acquire (a free
 * connection, or a new one opened) and its `totalCount`/`idleCount`/`waitingCount`; on the
 * embedded database it is the queue for PGlite's single session.
 */
export function measurePool(pool: MeasuredPool, metrics: MetricsService): void {
  const acquired = metrics.dbAcquireDuration.of('acquired');
  const failed = metrics.dbAcquireDuration.of('failed');
  const connect = pool.connect.bind(pool);
  pool.connect = (callback?: ConnectCallback): unknown => {
    const started = performance.now();
    const seconds = (): number => (performance.now() - started) / 1000;
    if (typeof callback !== 'function') {
      return (connect() as Promise<unknown>).then(
        (client) => {
          acquired.observe(seconds());
          return client;
        },
        (err: unknown) => {
          failed.observe(seconds());
          throw err;
        },
      );
    }
    return connect((err, client, release) => {
      (err ? failed : acquired).observe(seconds());
      callback(err, client, release);
    });
  };
  metrics.watchPool(() =>
    pool.stats
      ? pool.stats()
      : { total: pool.totalCount ?? 0, idle: pool.idleCount ?? 0, waiting: pool.waitingCount ?? 0 },
  );
}

/** Wires measurePool to the application's data source once it is open. */
@Injectable()
export class DatabasePoolMetrics implements OnModuleInit {
  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly metrics: MetricsService,
  ) {}

  onModuleInit(): void {
    const pool = (this.ds.driver as unknown as { master?: MeasuredPool }).master;
    if (pool && typeof pool.connect === 'function') measurePool(pool, this.metrics);
  }
}
