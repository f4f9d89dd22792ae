import { Injectable } from '@nestjs/common';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { statementsSent } from '../../database/statement-count';

/** One Prometheus registry per application instance (tests start many in one process). */
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
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
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
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
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

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'roomkey_' });
  }
}
