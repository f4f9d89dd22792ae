import { Injectable } from '@nestjs/common';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { statementsSent } from '../../database/statement-count';
import { Children } from './children';

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** Waits that are usually far below a millisecond (a free pool connection, a small batch). */
const SHORT_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/** Circuit breaker states as the gauge reports them (documented in its help text). */
export const CIRCUIT_STATE = { closed: 0, half_open: 1, open: 2 } as const;
export type CircuitStateName = keyof typeof CIRCUIT_STATE;

/** One circuit breaker of this process: its vendor label and state. */
export interface CircuitView {
  vendor: string;
  state: CircuitStateName;
}

/** The database pool as it stands: connections open, idle, and callers waiting for one. */
export interface PoolView {
  total: number;
  idle: number;
  waiting: number;
}

/**
 * One Prometheus registry per application instance (tests start many in one process).
 *
 * Labels are closed sets named in code (route patterns, vendor kinds, reason classes): never a
 * tenant, user, key or credential id, and never a value a client chose. Metrics written on a hot
 * path (a mint, an authentication, an audit append) go through `Children`, which keeps one bound
 * child per label set.
 */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();

  readonly httpRequests = new Counter({
    name: 'roomkey_http_requests_total',
    help: 'HTTP requests by method, route and status.',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [this.registry],
  });

  readonly httpDuration = new Histogram({
    name: 'roomkey_http_request_duration_seconds',
    help: 'HTTP request latency by method and route.',
    labelNames: ['method', 'route'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });

  readonly graphqlOperations = new Counter({
    name: 'roomkey_graphql_operations_total',
    help: 'GraphQL root fields executed, by operation type, field and outcome.',
    labelNames: ['type', 'field', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly graphqlDuration = new Histogram({
    name: 'roomkey_graphql_operation_duration_seconds',
    help: 'GraphQL operation latency by operation type and first root field.',
    labelNames: ['type', 'field'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });

  readonly dbStatements = new Counter({
    name: 'roomkey_db_statements_total',
    help: 'SQL statements sent to the database by this process (PostgreSQL or embedded PGlite).',
    registers: [this.registry],
    collect() {
      this.reset();
      this.inc(statementsSent());
    },
  });

  /** Join credentials and vendor user tokens, counted once their audit event is written. */
  readonly credentialsIssued = new Children(
    new Counter({
      name: 'roomkey_credentials_issued_total',
      help:
        'Join credentials and vendor tokens issued (each recorded with its audit event), by vendor, ' +
        'kind (join, rtm_token, chat_token), role (publisher, subscriber, moderator; none for user ' +
        'tokens), lane (graphql, compat, join_link) and route (the GraphQL operation or the ' +
        'compatibility route, e.g. graphql:createConnection, agora.rtc, livekit.token).',
      labelNames: ['vendor', 'kind', 'role', 'lane', 'route'] as const,
      registers: [this.registry],
    }),
  );

  /** Vendor HTTP calls as their caller sees them (one retry included), by operation. */
  readonly vendorDuration = new Children(
    new Histogram({
      name: 'roomkey_vendor_request_duration_seconds',
      help:
        'Vendor API call latency by vendor, operation (create_room, issue_join, ...) and outcome ' +
        '(ok, error, cancelled by the caller); a call includes its retry, if any.',
      labelNames: ['vendor', 'operation', 'outcome'] as const,
      buckets: LATENCY_BUCKETS,
      registers: [this.registry],
    }),
  );

  readonly vendorErrors = new Children(
    new Counter({
      name: 'roomkey_vendor_request_errors_total',
      help:
        'Failed vendor API calls by vendor, operation and reason: timeout (our deadline aborted ' +
        'the call), connection_failed, status_5xx, status_4xx, malformed_response, redirect, ' +
        'circuit_open (refused without calling: the breaker is open), other.',
      labelNames: ['vendor', 'operation', 'reason'] as const,
      registers: [this.registry],
    }),
  );

  private circuitSource: () => Iterable<CircuitView> = () => [];
  private circuitVendors: readonly string[] = [];

  readonly vendorCircuitState = new Gauge({
    name: 'roomkey_vendor_circuit_state',
    help:
      "Worst circuit breaker state among this process's breakers of a vendor (one per " +
      'credential): 0 closed, 1 half-open (a probe call is let through), 2 open (calls fail fast).',
    labelNames: ['vendor'] as const,
    registers: [this.registry],
    collect: () => this.collectCircuits(),
  });

  readonly vendorCircuits = new Gauge({
    name: 'roomkey_vendor_circuits',
    help: 'Circuit breakers of this process (one per vendor credential used) by vendor and state.',
    labelNames: ['vendor', 'state'] as const,
    registers: [this.registry],
    collect: () => this.collectCircuits(),
  });

  readonly authAttempts = new Children(
    new Counter({
      name: 'roomkey_auth_attempts_total',
      help:
        'Authentication outcomes by method (basic_api_key, basic_password, jwt, cookie, ' +
        'external_jwt, oidc, saml, join_link, refresh, login_code, none), outcome (success, ' +
        'failure) and reason class (none, missing, malformed, bad_credentials, invalid_token, ' +
        'expired, revoked, locked, refused, other). Requests refused by a rate limit before any ' +
        'credential check are counted in roomkey_rate_limit_rejections_total instead.',
      labelNames: ['method', 'outcome', 'reason'] as const,
      registers: [this.registry],
    }),
  );

  readonly rateLimitRejections = new Children(
    new Counter({
      name: 'roomkey_rate_limit_rejections_total',
      help:
        'Requests refused by a rate limit or credential lock, by limiter (ip_login, principal, ' +
        'tenant, join_link, red5_ip, red5_concurrency, account_locked, ...) and lane (graphql, ' +
        'compat, red5, webhook, sso, other).',
      labelNames: ['limiter', 'lane'] as const,
      registers: [this.registry],
    }),
  );

  readonly auditAppendDuration = new Children(
    new Histogram({
      name: 'roomkey_audit_append_duration_seconds',
      help:
        'Time an audit append takes for its caller, by mode: group_commit (from submit until its ' +
        'batch committed, waiting included) or transaction (head lock and insert inside a business ' +
        'transaction, its commit excluded), and outcome (ok, error).',
      labelNames: ['mode', 'outcome'] as const,
      buckets: SHORT_BUCKETS,
      registers: [this.registry],
    }),
  );

  readonly auditBatchSize = new Histogram({
    name: 'roomkey_audit_batch_size',
    help: 'Events per group-commit batch written (one transaction per tenant chain and batch).',
    buckets: [1, 2, 5, 10, 25, 50, 100, 250, 500],
    registers: [this.registry],
  });

  readonly dbAcquireDuration = new Children(
    new Histogram({
      name: 'roomkey_db_pool_acquire_duration_seconds',
      help:
        'Time waiting for a database connection, by outcome (acquired, failed). PostgreSQL: the ' +
        "pg pool's connect (a free connection, or a new one opened). Embedded PGlite: the wait for " +
        'its single session, which serves one caller at a time in arrival order.',
      labelNames: ['outcome'] as const,
      buckets: SHORT_BUCKETS,
      registers: [this.registry],
    }),
  );

  private poolSource: (() => PoolView) | null = null;

  readonly dbPoolClients = new Gauge({
    name: 'roomkey_db_pool_clients',
    help:
      'Database pool by state: total (connections open), idle, waiting (callers queued for a ' +
      'connection). Embedded PGlite has one session: total 1, idle 0 or 1.',
    labelNames: ['state'] as const,
    registers: [this.registry],
    collect: () => {
      const view = this.poolSource?.();
      if (!view) return;
      this.dbPoolClients.set({ state: 'total' }, view.total);
      this.dbPoolClients.set({ state: 'idle' }, view.idle);
      this.dbPoolClients.set({ state: 'waiting' }, view.waiting);
    },
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'roomkey_' });
  }

  /**
   * Where the circuit gauges read from at scrape time. `vendors` are reported closed (0) when they
   * have no breaker yet, so every vendor has a series.
   */
  watchCircuits(vendors: readonly string[], source: () => Iterable<CircuitView>): void {
    this.circuitVendors = vendors;
    this.circuitSource = source;
  }

  /** Where the pool gauge reads from at scrape time. */
  watchPool(source: () => PoolView): void {
    this.poolSource = source;
  }

  private collectCircuits(): void {
    const worst = new Map<string, number>(this.circuitVendors.map((v) => [v, 0]));
    const counts = new Map<string, number>();
    for (const vendor of this.circuitVendors)
      for (const state of Object.keys(CIRCUIT_STATE)) counts.set(`${vendor}|${state}`, 0);
    for (const c of this.circuitSource()) {
      worst.set(c.vendor, Math.max(worst.get(c.vendor) ?? 0, CIRCUIT_STATE[c.state]));
      const key = `${c.vendor}|${c.state}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    this.vendorCircuitState.reset();
    for (const [vendor, value] of worst) this.vendorCircuitState.set({ vendor }, value);
    this.vendorCircuits.reset();
    for (const [key, n] of counts) {
      const [vendor, state] = key.split('|');
      this.vendorCircuits.set({ vendor, state }, n);
    }
  }
}
