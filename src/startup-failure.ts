import { hostname } from 'node:os';
import * as net from 'node:net';
import { describeDatabaseError, isDatabaseUnavailable } from './common/errors/database-unavailable';

/*
 * What main.ts needs before the application graph is loaded: a check that the port can be bound,
 * and the one log line that reports a failed start. Node built-ins only, so a bad start is
 * reported in well under a second.
 */

/**
 * Binds host:port and lets it go again. A port that is taken (or not ours to bind) fails here,
 * before the database is opened, keys are generated or an administrator is created. The real
 * bind comes later and is checked again; this only makes the common mistake cheap and harmless.
 */
export function probePort(host: string, port: number): Promise<void> {
  if (port === 0) return Promise.resolve(); // any free port: nothing to probe
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve()));
  });
}

interface Coded {
  code?: unknown;
  syscall?: unknown;
  address?: unknown;
  port?: unknown;
  query?: unknown;
  driverError?: unknown;
  stack?: unknown;
}

const SQLSTATE = /^[0-9A-Z]{5}$/;

/** Fields of the failure line: a message a person can act on, and codes a machine can match. */
export function describeStartupFailure(err: unknown): Record<string, unknown> {
  const e = (err && typeof err === 'object' ? err : {}) as Coded;
  if (e.syscall === 'listen' && typeof e.code === 'string') {
    const where = `${String(e.address)}:${String(e.port)}`;
    const why = e.code === 'EADDRINUSE' ? 'address already in use' : e.code;
    return { msg: `cannot listen on ${where}: ${why}`, errorCode: e.code };
  }
  const db = describeDatabaseError(err);
  const sqlState = db.errorCode && SQLSTATE.test(db.errorCode) ? db.errorCode : null;
  if (sqlState || isDatabaseUnavailable(err) || e.syscall === 'getaddrinfo') {
    // A statement's message can quote bound values; connection-level messages quote none.
    const statement = typeof e.query === 'string' || e.driverError !== undefined;
    const detail = statement ? `query failed (SQLSTATE ${sqlState ?? 'unknown'})` : db.message;
    const verb = isDatabaseUnavailable(err) ? 'unreachable' : 'refused';
    return { msg: `database ${verb}: ${detail}`, errorCode: db.errorCode };
  }
  const error = err instanceof Error ? err : new Error(String(err));
  return {
    msg: `start failed: ${error.message.split('\n')[0]}`,
    err: { type: error.name, message: error.message, stack: error.stack },
  };
}

/**
 * Reports a failed start as one JSON line at pino's fatal level (60), shaped like every other log
 * line. `code` is deliberately not a field name: the logs redact it (OAuth one-time codes).
 */
export function reportStartupFailure(err: unknown): void {
  const line = {
    level: 60,
    time: Date.now(),
    pid: process.pid,
    hostname: hostname(),
    context: 'Roomkey',
    ...describeStartupFailure(err),
  };
  process.stdout.write(`${JSON.stringify(line)}\n`);
}
