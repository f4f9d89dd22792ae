import { createHash } from 'node:crypto';
import { Client, type ClientConfig } from 'pg';
import { countStatement } from './statement-count';

/** How long after the server-side statement_timeout the client stops waiting for any answer. */
export const READ_TIMEOUT_MARGIN_MS = 1000;

/** The longest timer Node keeps (about 24.8 days): "no read timeout" in practice. */
const NO_TIMEOUT_MS = 2_147_483_647;

/** Statement texts the driver prepares once per connection, by name (see `prepared`). */
const PREPARED = new Map<string, string>();
/** More distinct texts than this are a bug (a text built from values): they run unprepared. */
const MAX_PREPARED = 64;

/**
 * Marks `text` as a hot statement that PostgreSQL should parse and plan once per connection
 * rather than on every run: RoomkeyPgClient sends it as a named prepared statement (the name is a
 * hash of the text, so one name never means two texts). Only for texts built from code, never
 * from values; PGlite ignores the mark. Returns `text`.
 */
export function prepared(text: string): string {
  if (!PREPARED.has(text) && PREPARED.size < MAX_PREPARED) {
    PREPARED.set(text, `rk_${createHash('sha256').update(text).digest('hex').slice(0, 32)}`);
  }
  return text;
}

/** RoomkeyPgClient's own options, next to pg's. */
export interface RoomkeyClientConfig extends ClientConfig {
  /** Connect timeout of this one connection (pg-pool's `connectionTimeoutMillis` is the acquire wait). */
  clientConnectTimeoutMillis?: number;
}

/**
 * A `pg.Client` that gives up on a connection whose server went silent.
 *
 * `query_timeout` makes pg reject a query nobody answers ("Query read timeout"), but pg keeps the
 * connection, and pg-pool then lends it out again behind the lost query: after a partition to a
 * host that never comes back, every pooled connection would be such a zombie until TCP gives up
 * (minutes). Destroying the socket makes the client emit `error`, so the pool (and TypeORM's
 * query runner) drop it, and the next request opens a fresh connection.
 */
export class RoomkeyPgClient extends Client {
  /** Read timeout for this connection's queries while set (long work: migrations); 0 = none. */
  readTimeoutOverrideMs: number | undefined;

  constructor(config?: string | RoomkeyClientConfig) {
    if (config && typeof config === 'object' && config.clientConnectTimeoutMillis !== undefined) {
      const { clientConnectTimeoutMillis, ...rest } = config;
      super({ ...rest, connectionTimeoutMillis: clientConnectTimeoutMillis });
    } else {
      super(config);
    }
  }

  // pg's query() is heavily overloaded; TypeORM calls the promise form `query(text, values)`.
  override query(...args: unknown[]): never {
    countStatement();
    const name = typeof args[0] === 'string' ? PREPARED.get(args[0]) : undefined;
    if (typeof args[0] === 'string' && (name || this.readTimeoutOverrideMs !== undefined)) {
      const override = this.readTimeoutOverrideMs;
      args = [
        {
          text: args[0],
          ...(name ? { name } : {}),
          ...(override !== undefined
            ? { query_timeout: override === 0 ? NO_TIMEOUT_MS : override }
            : {}),
        },
        ...args.slice(1),
      ];
    }
    const result = (super.query as (...a: unknown[]) => unknown).apply(this, args);
    if (result && typeof (result as Promise<unknown>).then === 'function') {
      return (result as Promise<unknown>).catch((err: unknown) => {
        if (err instanceof Error && err.message === 'Query read timeout') this.abandon();
        throw err;
      }) as never;
    }
    return result as never;
  }

  private abandon(): void {
    const stream = (this as unknown as { connection?: { stream?: { destroy(): void } } }).connection
      ?.stream;
    stream?.destroy();
  }
}

/**
 * Runs `work` on one query runner's connection with a different statement timeout (server side)
 * and a matching client read timeout, then restores both. `local` (inside a transaction): SET
 * LOCAL, which ends with the transaction, so nothing runs on an aborted one. Without a timeout,
 * or on PGlite (which has neither), `work` simply runs.
 */
export async function withStatementTimeout<T>(
  runner: { query(sql: string): Promise<unknown> },
  timeoutMs: number | undefined,
  work: () => Promise<T>,
  { local = false }: { local?: boolean } = {},
): Promise<T> {
  const client = (runner as unknown as { databaseConnection?: unknown }).databaseConnection;
  if (timeoutMs === undefined || !(client instanceof RoomkeyPgClient)) return work();
  await runner.query(`SET ${local ? 'LOCAL ' : ''}statement_timeout = ${Math.floor(timeoutMs)}`);
  client.readTimeoutOverrideMs = timeoutMs === 0 ? 0 : timeoutMs + READ_TIMEOUT_MARGIN_MS;
  try {
    return await work();
  } finally {
    client.readTimeoutOverrideMs = undefined;
    if (!local) await runner.query('RESET statement_timeout');
  }
}
