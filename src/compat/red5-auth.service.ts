import { timingSafeEqual } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import proxyAddr from 'proxy-addr';
import { DataSource, Not } from 'typeorm';
import { type AuditActor } from '../audit/audit-actor';
import { AuditOutcome } from '../audit/audit-event.entity';
import { AuditService } from '../audit/audit.service';
import { ActorType, AuthMethod } from '../common/auth/roles';
import { type RequestMeta } from '../common/context';
import { ParticipantRole, ProviderKind } from '../providers/provider-kind';
import { SessionConnection } from '../sessions/connection.entity';
import { sha256 } from '../common/crypto/compare';
import { ConnectionStatus, SessionStatus } from '../sessions/session-status';
import { TenantDirectory } from '../tenants/tenant-directory';

/** What Red5's RoundTripAuthValidator sends (unknown fields such as `scope` are ignored). */
interface Red5Body {
  type: 'publisher' | 'subscriber' | null;
  streamId: string;
  username: string | null;
  password: string | null;
  token: string | null;
}

/** One row of the validation lookup: the credential, its session, tenant and vendor credential. */
interface Candidate {
  id: string;
  tenant_id: string;
  slug: string;
  role: ParticipantRole;
  status: ConnectionStatus;
  expires_at: Date | null;
  username: string | null;
  password_hash: Buffer | null;
  token_hash: Buffer | null;
  external_id: string | null;
  session_status: SessionStatus;
  provider: ProviderKind;
  credential_id: string | null;
  allowed_ips: string[] | null;
  credential_version: Date | null;
}

type Decision = { ok: true; row: Candidate } | { ok: false; reason: string; row?: Candidate };
type Refusal = { ok: false; reason: string; row?: undefined };

const LOOKUP = `
  SELECT c.id, c.tenant_id, t.slug, c.role, c.status, c.expires_at, c.username, c.password_hash,
         c.token_hash, s.external_id, s.status AS session_status, s.provider,
         p.id AS credential_id, p.config -> 'allowedIps' AS allowed_ips,
         p.updated_at AS credential_version
    FROM session_connection c
    JOIN video_session s ON s.id = c.session_id
    JOIN tenant t ON t.id = c.tenant_id
    LEFT JOIN provider_credential p ON p.id = s.credential_id`;

/**
 * Red5 Pro round-trip authentication: Red5 asks, Roomkey answers `true` only for an unexpired,
 * unrevoked credential of that tenant matching stream, type and every secret presented. One indexed
 * lookup (token hash, else user name), shared by the validations that arrive together, and no
 * vendor call. Each answer is audited with a reason code,
 * never a secret. The HTTP layer always answers 200: Red5 treats anything else as a denial anyway.
 */
@Injectable()
export class Red5AuthService {
  private readonly allowLists = new Map<
    string,
    { version: number; trust: (ip: string) => boolean }
  >();

  private readonly lookups: LookupBatches;

  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly audit: AuditService,
    private readonly slugs: TenantDirectory,
  ) {
    this.lookups = new LookupBatches(ds);
  }

  async validate(
    slug: string,
    raw: Buffer | undefined,
    tooLarge: boolean,
    meta: RequestMeta,
    /** Called once the decision is made, before it is audited (frees the admission slot). */
    decided?: () => void,
  ): Promise<boolean> {
    const parsed = parseBody(raw, tooLarge, true);
    const decision = 'reason' in parsed ? parsed : await this.decide(slug, parsed, meta, true);
    decided?.();
    const body = 'reason' in parsed ? null : parsed;
    await this.record(slug, meta, decision, 'red5.validated', {
      reason: decision.ok ? 'ok' : decision.reason,
      type: body?.type ?? null,
      streamId: body?.streamId ?? null,
      connectionId: decision.row?.id ?? null,
    });
    return decision.ok;
  }

  /** Red5 reports a finished publisher: the credential is marked REVOKED and cannot be used again. */
  async invalidate(
    slug: string,
    raw: Buffer | undefined,
    tooLarge: boolean,
    meta: RequestMeta,
    decided?: () => void,
  ): Promise<boolean> {
    const parsed = parseBody(raw, tooLarge, false);
    let decision: Decision =
      'reason' in parsed ? parsed : await this.decide(slug, parsed, meta, false);
    if (decision.ok || decision.reason === 'revoked') {
      const row = decision.row as Candidate;
      const res = await this.ds
        .getRepository(SessionConnection)
        .update(
          { id: row.id, status: Not(ConnectionStatus.REVOKED) },
          { status: ConnectionStatus.REVOKED, revokedAt: new Date() },
        );
      decision = res.affected ? { ok: true, row } : { ok: false, reason: 'already_revoked', row };
    }
    decided?.();
    await this.record(slug, meta, decision, 'red5.invalidated', {
      reason: decision.ok ? 'ok' : decision.reason,
      streamId: 'reason' in parsed ? null : parsed.streamId,
      connectionId: decision.row?.id ?? null,
    });
    return decision.ok || decision.reason === 'already_revoked';
  }

  private async decide(
    slug: string,
    body: Red5Body,
    meta: RequestMeta,
    checkType: boolean,
  ): Promise<Decision> {
    const row = await this.lookups.find(
      body.token ? { tokenHash: sha256(body.token).toString('hex') } : { username: body.username! },
    );
    if (!row || row.provider !== ProviderKind.RED5)
      return { ok: false, reason: 'unknown_credential' };
    const deny = (reason: string): Decision => ({ ok: false, reason, row });
    if (row.slug !== slug) return { ok: false, reason: 'wrong_tenant' };
    if (row.external_id !== body.streamId) return deny('wrong_stream');
    if (
      checkType &&
      body.type !== (row.role === ParticipantRole.SUBSCRIBER ? 'subscriber' : 'publisher')
    ) {
      return deny('wrong_type');
    }
    if (body.username !== null && body.username !== row.username) return deny('wrong_username');
    if (body.password !== null && !sameHash(row.password_hash, sha256(body.password))) {
      return deny('wrong_password');
    }
    if (body.token !== null && !sameHash(row.token_hash, sha256(body.token)))
      return deny('wrong_token');
    if (!this.ipAllowed(row, meta.clientIp)) return deny('ip_not_allowed');
    if (row.status === ConnectionStatus.REVOKED) return deny('revoked');
    if (row.expires_at && new Date(row.expires_at).getTime() <= Date.now()) return deny('expired');
    if (row.session_status !== SessionStatus.ACTIVE) return deny('session_ended');
    return { ok: true, row };
  }

  private ipAllowed(row: Candidate, ip: string | null): boolean {
    const ips = Array.isArray(row.allowed_ips) ? row.allowed_ips : [];
    if (ips.length === 0 || !row.credential_id) return true;
    if (!ip) return false;
    const version = row.credential_version ? new Date(row.credential_version).getTime() : 0;
    let entry = this.allowLists.get(row.credential_id);
    if (!entry || entry.version !== version) {
      const trust = proxyAddr.compile(ips);
      entry = { version, trust: (addr: string) => trust(addr, 0) };
      if (this.allowLists.size > 10_000) this.allowLists.clear();
      this.allowLists.set(row.credential_id, entry);
    }
    return entry.trust(ip);
  }

  /** Audited in the chain of the tenant named in the URL; an unknown slug has no chain to write to. */
  private async record(
    slug: string,
    meta: RequestMeta,
    decision: Decision,
    action: 'red5.validated' | 'red5.invalidated',
    metadata: Record<string, string | null>,
  ): Promise<void> {
    const tenantId =
      decision.row && decision.row.slug === slug
        ? decision.row.tenant_id
        : await this.slugs.idOf(slug);
    if (!tenantId) return;
    const actor: AuditActor = {
      tenantId,
      actorType: ActorType.VENDOR,
      actorId: null,
      actorLabel: 'red5',
      authMethod: AuthMethod.NONE,
      requestId: meta.requestId,
      clientIp: meta.clientIp,
      userAgent: meta.userAgent,
    };
    const entry = {
      action,
      targetType: 'connection',
      targetId: decision.row && decision.row.tenant_id === tenantId ? decision.row.id : null,
      metadata: metadata as never,
    };
    if (decision.ok) await this.audit.record(null, actor, entry);
    else await this.audit.recordQuietly(actor, { ...entry, outcome: AuditOutcome.DENIED });
  }
}

/** What one validation looks up: the hash of its token (hex), else its user name. */
type LookupKey =
  { tokenHash: string; username?: undefined } | { username: string; tokenHash?: undefined };

interface LookupJob {
  key: LookupKey;
  resolve: (row: Candidate | undefined) => void;
  reject: (err: unknown) => void;
}

/** Keys per lookup statement (two index probes each). */
const MAX_LOOKUP_BATCH = 256;

/**
 * Group lookup, as group commit does for the audit appends: the validations whose bodies are read in
 * one event-loop turn share one statement (`token_hash = ANY(…) OR username = ANY(…)`, two unique
 * indexes). Each still sees the rows as they are when it is decided — nothing is cached, so a
 * revocation committed before the statement runs is seen by every validation in it. A Red5 server
 * under load sends many validations at once; one statement for them instead of one each is what
 * keeps the pool and the database's CPU out of the answer's latency. A failed statement fails each
 * of its validations (each a denial).
 */
class LookupBatches {
  private pending: LookupJob[] = [];
  private scheduled = false;

  constructor(private readonly ds: DataSource) {}

  find(key: LookupKey): Promise<Candidate | undefined> {
    return new Promise((resolve, reject) => {
      this.pending.push({ key, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.run());
      }
    });
  }

  private run(): void {
    this.scheduled = false;
    while (this.pending.length > 0) {
      const jobs = this.pending.splice(0, MAX_LOOKUP_BATCH);
      void this.lookUp(jobs);
    }
  }

  private async lookUp(jobs: LookupJob[]): Promise<void> {
    const hashes = [
      ...new Set(jobs.flatMap((j) => (j.key.tokenHash ? [`\\x${j.key.tokenHash}`] : []))),
    ];
    const names = [...new Set(jobs.flatMap((j) => (j.key.username ? [j.key.username] : [])))];
    let rows: Candidate[];
    try {
      rows = await this.ds.query<Candidate[]>(
        `${LOOKUP} WHERE c.token_hash = ANY($1::text[]::bytea[]) OR c.username = ANY($2::text[])`,
        [hashes, names],
      );
    } catch (err) {
      for (const j of jobs) j.reject(err);
      return;
    }
    const byHash = new Map<string, Candidate>();
    const byName = new Map<string, Candidate>();
    for (const r of rows) {
      if (r.token_hash) byHash.set(Buffer.from(r.token_hash).toString('hex'), r);
      if (r.username !== null) byName.set(r.username, r);
    }
    for (const j of jobs) {
      j.resolve(
        j.key.tokenHash ? byHash.get(j.key.tokenHash) : byName.get(j.key.username as string),
      );
    }
  }
}

const MAX_FIELD = 512;

/** The body, or why it is refused. Secrets are only compared, never kept or echoed. */
function parseBody(
  raw: Buffer | undefined,
  tooLarge: boolean,
  needType: boolean,
): Red5Body | Refusal {
  const refuse = (reason: string): Refusal => ({ ok: false, reason });
  if (tooLarge) return refuse('body_too_large');
  if (!raw || raw.length === 0) return refuse('empty_body');
  let v: unknown;
  try {
    v = JSON.parse(raw.toString('utf8'));
  } catch {
    return refuse('not_json');
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return refuse('not_an_object');
  const o = v as Record<string, unknown>;
  const text = (k: string): string | null | undefined => {
    const x = o[k];
    if (x === undefined || x === null || x === '') return null;
    return typeof x === 'string' && x.length <= MAX_FIELD ? x : undefined;
  };
  const [username, password, token, streamId] = ['username', 'password', 'token', 'streamID'].map(
    text,
  );
  if (
    username === undefined ||
    password === undefined ||
    token === undefined ||
    streamId === undefined
  ) {
    return refuse('bad_field');
  }
  if (!streamId) return refuse('missing_stream');
  const type = o.type === 'publisher' || o.type === 'subscriber' ? o.type : null;
  if (needType && !type) return refuse('bad_type');
  if (!token && !(username && password)) return refuse('missing_credentials');
  return { type, streamId, username, password, token };
}

function sameHash(stored: Buffer | null, given: Buffer): boolean {
  return stored !== null && stored.length === given.length && timingSafeEqual(stored, given);
}
