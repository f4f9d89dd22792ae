import { Inject, Injectable } from '@nestjs/common';
import {
  BrokenCircuitError,
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
import { type CallOptions } from '../video-provider';

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

/** Vendor error text is shown to callers only after this: short, printable, no URLs or tokens. */
export function sanitiseVendorMessage(text: string): string {
  let msg = text;
  try {
    const j = JSON.parse(text) as Record<string, unknown>;
    const pick = j.message ?? j.msg ?? j.errors ?? j.error_description ?? j.error;
    if (typeof pick === 'string') msg = pick;
  } catch {
    /* not JSON */
  }
  return msg
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
 */
@Injectable()
export class VendorHttp {
  private readonly breakers = new Map<string, IPolicy>();

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  async request(
    credentialId: string,
    req: VendorRequest,
    opts: CallOptions = {},
  ): Promise<VendorResponse> {
    const attempt = timeout(this.config.providers.timeoutMs, TimeoutStrategy.Aggressive);
    const policies: IPolicy[] = [this.breaker(credentialId)];
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
    try {
      // The caller's signal is combined inside send(), not handed to the policies: a caller who
      // goes away is not the vendor's fault and must not count towards the breaker or a retry.
      return await wrap(...policies, attempt).execute(
        ({ signal }) => this.send(req, signal, opts.signal),
        new AbortController().signal,
      );
    } catch (err) {
      throw toDomain(err);
    }
  }

  private breaker(credentialId: string): IPolicy {
    let b = this.breakers.get(credentialId);
    if (!b) {
      b = circuitBreaker(
        handleWhen((e) => e instanceof VendorUnavailable || e instanceof TaskCancelledError),
        {
          halfOpenAfter: this.config.providers.breakerOpenMs,
          breaker: new ConsecutiveBreaker(this.config.providers.breakerFailures),
        },
      );
      if (this.breakers.size > 10_000) this.breakers.clear();
      this.breakers.set(credentialId, b);
    }
    return b;
  }

  private async send(
    req: VendorRequest,
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
        `Vendor refused the request (${res.status}): ${sanitiseVendorMessage(text)}`,
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
