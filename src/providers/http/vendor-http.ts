import { Inject, Injectable, Optional } from '@nestjs/common';
import {
  BrokenCircuitError,
  type CircuitBreakerPolicy,
  CircuitState,
  ConsecutiveBreaker,
  ExponentialBackoff,
  type IPolicy,
  TaskCancelledError,
  TimeoutStrategy,
  circuitBreaker,
  handleWhen,
  retry,
  timeout,
  wrap,
} from 'cockatiel';
import { APP_CONFIG, type AppConfig } from '../../common/config';
import { DomainException, ErrorCode } from '../../common/errors';
import { type CircuitStateName, MetricsService } from '../../common/metrics/metrics.service';
import { ProviderKind } from '../provider-kind';
import { type CallOptions, type ResolvedCredential } from '../video-provider';

/**
 * Who a call is for: the credential id (breaker), its vendor (metrics) and the secrets to keep out
 * of any message.
 */
export type VendorCaller = Pick<ResolvedCredential, 'id' | 'secrets' | 'kind'>;

/** What a vendor call does, as the metrics name it (a closed set: one label value each). */
export type VendorOperation =
  | 'create_room'
  | 'close_room'
  | 'get_room'
  | 'list_rooms'
  | 'issue_join'
  | 'revoke_join'
  | 'access_token';

/** Vendor label of a caller given as a bare credential id (tests). */
const UNKNOWN_VENDOR = 'unknown';
const VENDOR_LABELS = Object.values(ProviderKind).map((k) => k.toLowerCase());

/** The caller went away (its signal aborted): not a vendor failure, never counted or retried. */
export class CallerCancelled extends Error {
  constructor() {
    super('cancelled by the caller');
    this.name = 'CallerCancelled';
  }
}

/** A failure the vendor is not to blame on the caller for: counts towards the breaker. */
export class VendorUnavailable extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'VendorUnavailable';
  }
}

export interface VendorRequest {
  /** What the call does, for the metrics. */
  operation: VendorOperation;
  method: 'GET' | 'POST' | 'DELETE' | 'PUT' | 'PATCH';
  url: string;
  headers?: Record<string, string>;
  /** JSON body (object) or a pre-encoded string (form bodies). */
  body?: unknown;
  /** Safe to send twice (reads, deletes, creates with a caller-chosen id). Enables one retry. */
  idempotent: boolean;
  /** Statuses that are a normal answer here, not an error (e.g. 409 on an idempotent create). */
  accept?: number[];
}

export interface VendorResponse {
  status: number;
  json: unknown;
  text: string;
}

const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Every form in which a secret can come back in a vendor's echo: raw, JSON-escaped, URL-encoded,
 * base64 and base64url, and the HTTP Basic form (`user:secret` encoded, any user name). Header
 * values we sent (Bearer tokens, Basic payloads) count as secrets too.
 */
export function secretForms(secrets: readonly string[]): string[] {
  const forms = new Set<string>();
  for (const secret of secrets) {
    if (!secret) continue;
    const bare = secret.replace(/^(Basic|Bearer)\s+/i, '');
    for (const v of [secret, bare]) {
      forms.add(v);
      forms.add(JSON.stringify(v).slice(1, -1));
      forms.add(encodeURIComponent(v));
      const b64 = Buffer.from(v, 'utf8').toString('base64');
      forms.add(b64);
      forms.add(b64.replace(/=+$/, ''));
      forms.add(Buffer.from(v, 'utf8').toString('base64url'));
    }
    // A Basic payload decoded: its password part is the secret.
    if (/^Basic\s+/i.test(secret)) {
      const decoded = Buffer.from(bare, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon >= 0) {
        forms.add(decoded);
        if (colon < decoded.length - 1) forms.add(decoded.slice(colon + 1));
      }
    }
  }
  forms.delete('');
  // Longest first, so a form that contains another is removed whole.
  return [...forms].sort((a, b) => b.length - a.length);
}

/** Replaces every occurrence (any letter case) of the given secret forms with `[secret]`. */
export function scrubSecrets(text: string, forms: readonly string[]): string {
  if (forms.length === 0 || text.length === 0) return text;
  return text.replace(new RegExp(forms.map(escapeRegExp).join('|'), 'gi'), '[secret]');
}

/**
 * Vendor error text is shown to callers only after this: the exact secrets in use removed in every
 * form (`secrets`: see secretForms), then short, printable, no URLs or long tokens.
 */
export function sanitiseVendorMessage(text: string, secrets: readonly string[] = []): string {
  const forms = secretForms(secrets);
  let msg = scrubSecrets(text, forms);
  try {
    const j = JSON.parse(msg) as Record<string, unknown>;
    const pick = j.message ?? j.msg ?? j.errors ?? j.error_description ?? j.error;
    if (typeof pick === 'string') msg = pick;
  } catch {
    /* not JSON */
  }
  return scrubSecrets(msg, forms)
    .replace(/\b[a-z][a-z0-9+.-]*:\/\/\S+/gi, '[url]')
    .replace(/[A-Za-z0-9_\-.~+/]{32,}={0,2}/g, '[redacted]')
    .replace(/[^\x20-\x7e]/g, ' ')
    .trim()
    .slice(0, 200);
}

/**
 * HTTP to vendors, with the resilience every call needs: a timeout that aborts the request, at most
 * one jittered retry for idempotent calls, and a circuit breaker per credential that fails fast
 * while a vendor is down and lets a probe through to recover. Failures become PROVIDER_UNAVAILABLE
 * (timeouts, resets, 5xx, malformed answers, open breaker) or PROVIDER_REJECTED (4xx).
 *
 * Every vendor call passes here, so this is where they are measured: latency, errors by reason
 * class and the breakers' states, per vendor and operation (docs/architecture.md, "Metrics").
 */
@Injectable()
export class VendorHttp {
  private readonly breakers = new Map<string, { policy: CircuitBreakerPolicy; vendor: string }>();

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Optional() @Inject(MetricsService) private readonly metrics?: MetricsService,
  ) {
    metrics?.watchCircuits(VENDOR_LABELS, () => this.circuits());
  }

  /**
   * `caller` is the credential (its id keys the breaker; its secrets, and the Authorization header
   * sent, are scrubbed from any vendor text that reaches a message). A bare id is for tests only.
   */
  async request(
    caller: VendorCaller | string,
    req: VendorRequest,
    opts: CallOptions = {},
  ): Promise<VendorResponse> {
    const credentialId = typeof caller === 'string' ? caller : caller.id;
    const vendor = typeof caller === 'string' ? UNKNOWN_VENDOR : caller.kind.toLowerCase();
    const secrets = [
      ...(typeof caller === 'string' ? [] : Object.values(caller.secrets)),
      ...Object.entries(req.headers ?? {})
        .filter(([name]) => name.toLowerCase() === 'authorization')
        .map(([, value]) => value),
    ];
    const attempt = timeout(this.config.providers.timeoutMs, TimeoutStrategy.Aggressive);
    const policies: IPolicy[] = [this.breaker(credentialId, vendor)];
    if (req.idempotent) {
      policies.unshift(
        retry(
          handleWhen((e) => e instanceof VendorUnavailable),
          {
            maxAttempts: 1,
            backoff: new ExponentialBackoff({ initialDelay: 50, maxDelay: 250 }),
          },
        ),
      );
    }
    const started = performance.now();
    try {
      // The caller's signal is combined inside send(), not handed to the policies: a caller who
      // goes away is not the vendor's fault and must not count towards the breaker or a retry.
      const res = await wrap(...policies, attempt).execute(
        ({ signal }) => this.send(req, secrets, signal, opts.signal),
        new AbortController().signal,
      );
      this.measure(vendor, req.operation, started, null);
      return res;
    } catch (err) {
      const failure = toDomain(err);
      this.measure(vendor, req.operation, started, failure);
      throw failure;
    }
  }

  /** Every breaker of this process with its vendor and state, for the circuit gauges. */
  *circuits(): Iterable<{ vendor: string; state: CircuitStateName }> {
    for (const { policy, vendor } of this.breakers.values()) {
      const state = policy.state;
      yield {
        vendor,
        state:
          state === CircuitState.Closed
            ? 'closed'
            : state === CircuitState.HalfOpen
              ? 'half_open'
              : 'open',
      };
    }
  }

  private measure(
    vendor: string,
    operation: VendorOperation,
    started: number,
    failure: DomainException | null,
  ): void {
    if (!this.metrics) return;
    const reason = failure ? errorClass(failure) : null;
    const outcome = reason === null ? 'ok' : reason === 'cancelled' ? 'cancelled' : 'error';
    this.metrics.vendorDuration
      .of(vendor, operation, outcome)
      .observe((performance.now() - started) / 1000);
    if (outcome === 'error') this.metrics.vendorErrors.of(vendor, operation, reason!).inc();
  }

  private breaker(credentialId: string, vendor: string): IPolicy {
    let b = this.breakers.get(credentialId);
    if (!b) {
      b = {
        vendor,
        policy: circuitBreaker(
          handleWhen((e) => e instanceof VendorUnavailable || e instanceof TaskCancelledError),
          {
            halfOpenAfter: this.config.providers.breakerOpenMs,
            breaker: new ConsecutiveBreaker(this.config.providers.breakerFailures),
          },
        ),
      };
      if (this.breakers.size > 10_000) this.breakers.clear();
      this.breakers.set(credentialId, b);
    }
    return b.policy;
  }

  private async send(
    req: VendorRequest,
    secrets: readonly string[],
    timeoutSignal: AbortSignal,
    caller?: AbortSignal,
  ): Promise<VendorResponse> {
    if (caller?.aborted) throw new CallerCancelled();
    const signal = caller ? AbortSignal.any([timeoutSignal, caller]) : timeoutSignal;
    const headers: Record<string, string> = { accept: 'application/json', ...req.headers };
    let body: string | undefined;
    if (typeof req.body === 'string') body = req.body;
    else if (req.body !== undefined) {
      body = JSON.stringify(req.body);
      headers['content-type'] ??= 'application/json';
    }
    let res: Response;
    try {
      res = await fetch(req.url, { method: req.method, headers, body, signal, redirect: 'manual' });
    } catch (err) {
      if (caller?.aborted) throw new CallerCancelled();
      if (signal.aborted) throw err; // our timeout: cockatiel reports it
      throw new VendorUnavailable('connection_failed');
    }
    let text: string;
    try {
      text = await res.text();
    } catch {
      if (caller?.aborted) throw new CallerCancelled();
      throw new VendorUnavailable('connection_failed');
    }
    // A redirect is never a vendor's answer to an API call (and nothing was done).
    if (res.status >= 300 && res.status < 400) {
      // Not retried and not counted: a misconfigured URL does not get better by asking again.
      throw new DomainException(
        ErrorCode.PROVIDER_UNAVAILABLE,
        `Vendor answered with a redirect (${res.status})`,
        {
          reason: 'unexpected_redirect',
        },
      );
    }
    if (res.status >= 500) throw new VendorUnavailable(`status_${res.status}`);
    if (res.status >= 400 && !req.accept?.includes(res.status)) {
      throw new DomainException(
        ErrorCode.PROVIDER_REJECTED,
        `Vendor refused the request (${res.status}): ${sanitiseVendorMessage(text, secrets)}`,
        {
          reason: `status_${res.status}`,
        },
      );
    }
    let json: unknown = null;
    if (text.length > 0 && /json/.test(res.headers.get('content-type') ?? 'application/json')) {
      try {
        json = JSON.parse(text);
      } catch {
        throw new VendorUnavailable('malformed_response');
      }
    }
    return { status: res.status, json, text };
  }
}

/** The error a caller sees for its own cancelled call. */
export function cancelled(): DomainException {
  return new DomainException(ErrorCode.PROVIDER_UNAVAILABLE, 'Request cancelled by the caller', {
    reason: 'cancelled',
  });
}

/** The metrics' reason class of a failed call (see roomkey_vendor_request_errors_total). */
function errorClass(e: DomainException): string {
  const reason = e.reason ?? '';
  if (e.code === ErrorCode.PROVIDER_REJECTED) return 'status_4xx';
  if (/^status_5\d\d$/.test(reason)) return 'status_5xx';
  if (reason === 'unexpected_redirect') return 'redirect';
  if (
    ['timeout', 'connection_failed', 'malformed_response', 'circuit_open', 'cancelled'].includes(
      reason,
    )
  )
    return reason;
  return 'other';
}

function toDomain(err: unknown): DomainException {
  if (err instanceof DomainException) return err;
  if (err instanceof BrokenCircuitError) {
    return new DomainException(
      ErrorCode.PROVIDER_UNAVAILABLE,
      'Vendor unavailable (circuit open): try again shortly',
      {
        reason: 'circuit_open',
      },
    );
  }
  if (err instanceof CallerCancelled) return cancelled();
  if (err instanceof TaskCancelledError) {
    return new DomainException(ErrorCode.PROVIDER_UNAVAILABLE, 'Vendor did not answer in time', {
      reason: 'timeout',
    });
  }
  const reason = err instanceof VendorUnavailable ? err.reason : 'unavailable';
  return new DomainException(ErrorCode.PROVIDER_UNAVAILABLE, `Vendor unavailable (${reason})`, {
    reason,
  });
}

/** Throws PROVIDER_UNAVAILABLE when a vendor answer lacks what the contract promises. */
export function expectField<T>(value: unknown, check: (v: unknown) => v is T, what: string): T {
  if (!check(value))
    throw new DomainException(ErrorCode.PROVIDER_UNAVAILABLE, `Vendor answer malformed (${what})`, {
      reason: 'malformed_response',
    });
  return value;
}

export const isString = (v: unknown): v is string => typeof v === 'string' && v.length > 0;
