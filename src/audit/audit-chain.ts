import { createHmac, timingSafeEqual } from 'node:crypto';

/** The chain's starting point: 32 zero bytes, hex. */
export const GENESIS_HASH = '0'.repeat(64);

/** Tenant id used for events that belong to no tenant (e.g. a sign-in by an unknown user). */
export const PLATFORM_TENANT_ID = '00000000-0000-0000-0000-000000000000';

/** The hashed content of an event: everything but `prevHash` and `hash` themselves. */
export interface ChainedFields {
  id: string;
  tenantId: string;
  seq: string; // bigint as decimal string
  occurredAt: string; // ISO-8601, millisecond precision
  actorType: string;
  actorId: string | null;
  actorLabel: string;
  authMethod: string;
  action: string;
  targetType: string | null;
  targetId: string | null;
  outcome: string;
  errorCode: string | null;
  clientIp: string | null;
  userAgent: string | null;
  requestId: string | null;
  metadata: Record<string, unknown>;
  keyId: string;
}

export interface ChainedEvent extends ChainedFields {
  prevHash: string;
  hash: string;
}

const byCodeUnits = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Deterministic JSON: object keys sorted at every depth, no whitespace. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => byCodeUnits(a, b));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

export function pickChained(e: ChainedFields): ChainedFields {
  return {
    id: e.id,
    tenantId: e.tenantId,
    seq: e.seq,
    occurredAt: e.occurredAt,
    actorType: e.actorType,
    actorId: e.actorId,
    actorLabel: e.actorLabel,
    authMethod: e.authMethod,
    action: e.action,
    targetType: e.targetType,
    targetId: e.targetId,
    outcome: e.outcome,
    errorCode: e.errorCode,
    clientIp: e.clientIp,
    userAgent: e.userAgent,
    requestId: e.requestId,
    metadata: e.metadata,
    keyId: e.keyId,
  };
}

/** The chained fields in canonicalJson's order, each with its `"key":` prefix. */
const CHAINED = (Object.keys(pickChained({} as ChainedFields)) as Array<keyof ChainedFields>)
  .sort(byCodeUnits)
  .map((key) => ({ key, prefix: `${JSON.stringify(key)}:` }));

/**
 * canonicalJson(pickChained(fields)), written straight from the fixed, pre-sorted field list
 * instead of listing and sorting an object's entries for every event (the same text, byte for
 * byte: audit-chain.spec.ts compares the two).
 */
export function canonicalChained(fields: ChainedFields): string {
  let out = '{';
  for (const { key, prefix } of CHAINED) {
    const value = fields[key];
    if (value === undefined) continue;
    out += `${out.length > 1 ? ',' : ''}${prefix}${canonicalJson(value)}`;
  }
  return `${out}}`;
}

/** hash = HMAC-SHA256(key, prevHash ‖ canonical(event)), hex. */
export function chainHash(key: Buffer, prevHash: string, fields: ChainedFields): string {
  return createHmac('sha256', key).update(prevHash).update(canonicalChained(fields)).digest('hex');
}

export interface VerifyResult {
  ok: boolean;
  checkedCount: number;
  firstInvalidEventId: string | null;
  reason: string | null;
}

/** Start of a verification: the genesis, or a signed checkpoint left by retention. */
export interface ChainStart {
  seq: bigint; // seq of the last event before the first one to check (0 at genesis)
  hash: string;
}

/**
 * Incremental verifier: feed events in `seq` order, in any number of batches (constant memory).
 * Detects edited content, deleted or inserted rows (sequence gaps, broken links), reordered
 * sequence numbers, unknown keys and chains recomputed without the key.
 */
export class ChainVerifier {
  private checked = 0;
  private prevSeq: bigint;
  private prevHash: string;
  private failure: { id: string; reason: string } | null = null;

  constructor(
    private readonly keyFor: (kid: string) => Buffer | undefined,
    start: ChainStart | null,
    /** For a partial export: take the first event's prevHash and seq on trust. */
    private readonly anchorOnFirst = false,
  ) {
    this.prevSeq = start?.seq ?? 0n;
    this.prevHash = start?.hash ?? GENESIS_HASH;
  }

  /** Returns false once the chain is broken (further events are ignored). */
  add(e: ChainedEvent): boolean {
    if (this.failure) return false;
    const seq = BigInt(e.seq);
    if (this.anchorOnFirst && this.checked === 0) {
      this.prevSeq = seq - 1n;
      this.prevHash = e.prevHash;
    }
    const fail = (reason: string): boolean => {
      this.failure = { id: e.id, reason };
      return false;
    };
    if (seq !== this.prevSeq + 1n)
      return fail(seq <= this.prevSeq ? 'sequence_out_of_order' : 'sequence_gap');
    if (!safeEqualHex(e.prevHash, this.prevHash)) return fail('previous_hash_mismatch');
    const key = this.keyFor(e.keyId);
    if (!key) return fail('unknown_key');
    if (!safeEqualHex(chainHash(key, e.prevHash, e), e.hash)) return fail('hash_mismatch');
    this.checked++;
    this.prevSeq = seq;
    this.prevHash = e.hash;
    return true;
  }

  result(): VerifyResult {
    return {
      ok: this.failure === null,
      checkedCount: this.checked,
      firstInvalidEventId: this.failure?.id ?? null,
      reason: this.failure?.reason ?? null,
    };
  }
}

function safeEqualHex(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Signature over a retention checkpoint, so the surviving chain's starting point cannot be forged. */
export function checkpointSignature(
  key: Buffer,
  c: { tenantId: string; lastSeq: string; lastHash: string; prunedBefore: string },
): string {
  return createHmac('sha256', key)
    .update(canonicalJson({ kind: 'audit-checkpoint', ...c }))
    .digest('hex');
}
