import { setTimeout as sleep } from 'node:timers/promises';
import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import { type AuditActor } from '../audit/audit-actor';
import { AuditService } from '../audit/audit.service';
import { APP_CONFIG, type AppConfig } from '../common/config';
import { type RequestContext } from '../common/context';
import { DomainException, ErrorCode, isUniqueViolation } from '../common/errors';
import { type Page, type PageArgs, paginate } from '../common/graphql/pagination';
import { CUSTOM_KEY, DISPLAY_TEXT, vendorName } from '../providers/names';
import { ProviderCredentialsService } from '../providers/provider-credentials.service';
import { ProviderKind } from '../providers/provider-kind';
import { ProviderRegistry } from '../providers/provider-registry';
import { type ResolvedCredential, type RoomRequest } from '../providers/video-provider';
import { type SessionFilterInput } from './dto/sessions.args';
import { assertMayManage } from './session-policy';
import { SessionStatus } from './session-status';
import { VideoSession } from './video-session.entity';

/** What a caller asks for; GraphQL and every compatibility route build one of these. */
export interface SessionRequest {
  provider?: ProviderKind | null;
  credentialId?: string | null;
  customSessionId?: string | null;
  name?: string | null;
  /** Vendor options, keyed by the vendor they are meant for (checked against the credential). */
  options?: Partial<Record<ProviderKind, Record<string, unknown> | null | undefined>>;
}

/** Where a call came from, for the audit log: `graphql` or `compat.<vendor>`. */
export type Via = string;

const POLL_MS = 50;

/**
 * Sessions: created once per vendor room, recorded with their creator, ended through the vendor.
 *
 * Idempotency: a customSessionId is claimed by inserting a CREATING row (a partial unique index
 * allows one open row per key) before the vendor is called, outside any transaction. Identical
 * calls in this process share the in-flight promise; calls from other instances find the claim
 * and wait for it. A failed vendor call deletes its claim, so nothing half-created remains.
 */
@Injectable()
export class SessionsService {
  private readonly inflight = new Map<string, Promise<VideoSession>>();

  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly credentials: ProviderCredentialsService,
    private readonly registry: ProviderRegistry,
    private readonly audit: AuditService,
  ) {}

  async create(
    ctx: RequestContext,
    req: SessionRequest,
    via: Via = 'graphql',
  ): Promise<VideoSession> {
    const customId =
      req.customSessionId != null
        ? vendorName(req.customSessionId, 'customSessionId', CUSTOM_KEY)
        : null;
    const name = req.name != null ? vendorName(req.name, 'name', DISPLAY_TEXT) : null;
    if (req.provider == null && req.credentialId == null) {
      throw DomainException.badInput('provider', 'Give provider or credentialId');
    }
    const cred = await this.credentials.resolve(
      ctx,
      req.credentialId ?? null,
      req.provider ?? undefined,
    );
    const room: RoomRequest = { customId, name, options: optionsFor(cred.kind, req.options) };
    this.registry.get(cred.kind).validateRoom(room);
    if (!customId) return this.createAtVendor(ctx, cred, room, via, null);

    const key = `${ctx.tenantId}|${cred.id}|${customId}`;
    let pending = this.inflight.get(key);
    if (!pending) {
      pending = this.createOnce(ctx, cred, room, customId, via).finally(() =>
        this.inflight.delete(key),
      );
      this.inflight.set(key, pending);
    }
    return pending;
  }

  /** The open session with this vendor id, for compatibility routes that address sessions so. */
  async findOpenByExternalId(
    ctx: Pick<RequestContext, 'tenantId'>,
    credentialId: string,
    externalId: string,
  ): Promise<VideoSession | null> {
    return this.ds.getRepository(VideoSession).findOne({
      where: { tenantId: ctx.tenantId, credentialId, externalId, status: SessionStatus.ACTIVE },
    });
  }

  /** The open session with this vendor id under a credential (given, or the default of `kind`). */
  async findOpenForKind(
    ctx: Pick<RequestContext, 'tenantId'>,
    kind: ProviderKind,
    credentialId: string | null,
    externalId: string,
  ): Promise<VideoSession | null> {
    const cred = await this.credentials.resolve(ctx, credentialId, kind);
    return this.findOpenByExternalId(ctx, cred.id, externalId);
  }

  /** The decrypted credential a session was created with. */
  credentialOf(
    ctx: Pick<RequestContext, 'tenantId'>,
    session: VideoSession,
  ): Promise<ResolvedCredential> {
    if (!session.credentialId) {
      throw DomainException.conflict('The credential of this session was deleted', 'sessionId');
    }
    return this.credentials.resolve(ctx, session.credentialId, session.provider);
  }

  async get(ctx: Pick<RequestContext, 'tenantId'>, id: string): Promise<VideoSession> {
    const row = await this.ds
      .getRepository(VideoSession)
      .findOne({ where: { id, tenantId: ctx.tenantId } });
    if (!row || row.status === SessionStatus.CREATING) throw DomainException.notFound('Session');
    return row;
  }

  list(
    ctx: RequestContext,
    filter: SessionFilterInput | null | undefined,
    args: PageArgs,
    toNode: (s: VideoSession) => unknown,
  ): Promise<Page<unknown>> {
    const qb = this.ds
      .getRepository(VideoSession)
      .createQueryBuilder('s')
      .where('s.tenantId = :tenantId', { tenantId: ctx.tenantId })
      .andWhere('s.status <> :creating', { creating: SessionStatus.CREATING });
    if (filter?.provider) qb.andWhere('s.provider = :provider', { provider: filter.provider });
    if (filter?.status) qb.andWhere('s.status = :status', { status: filter.status });
    if (filter?.createdBy) qb.andWhere('s.createdById = :by', { by: filter.createdBy });
    if (filter?.from) qb.andWhere('s.createdAt >= :from', { from: filter.from });
    if (filter?.to) qb.andWhere('s.createdAt < :to', { to: filter.to });
    return paginate(qb, args, 'createdAt', toNode);
  }

  /** Closes the room at the vendor, then records the end. Ending an ended session is a no-op. */
  async end(ctx: RequestContext, id: string, via: Via = 'graphql'): Promise<VideoSession> {
    const session = await this.get(ctx, id);
    assertMayManage(ctx, session, 'end this session');
    if (session.status === SessionStatus.ENDED) return session;
    if (session.credentialId && session.externalId) {
      const cred = await this.credentials.resolve(ctx, session.credentialId, session.provider);
      await this.registry.get(session.provider).closeRoom(cred, session.externalId);
    }
    return this.markEnded(ctx, session, 'ended', via);
  }

  /** Records an end (endSession, a vendor webhook, a forced credential delete), audited once. */
  async markEnded(
    actor: AuditActor,
    session: VideoSession,
    reason: string,
    via: Via,
    tx?: EntityManager,
  ): Promise<VideoSession> {
    const run = <T>(work: (m: EntityManager) => Promise<T>): Promise<T> =>
      tx ? work(tx) : this.ds.transaction(work);
    return run(async (m) => {
      const endedAt = new Date();
      const res = await m.update(
        VideoSession,
        { id: session.id, tenantId: session.tenantId, status: SessionStatus.ACTIVE },
        { status: SessionStatus.ENDED, endedAt, endReason: reason },
      );
      if (!res.affected) return (await m.findOneBy(VideoSession, { id: session.id })) ?? session;
      await this.audit.record(m, actor, {
        action: 'session.ended',
        tenantId: session.tenantId,
        targetType: 'video_session',
        targetId: session.id,
        metadata: {
          provider: session.provider,
          externalId: session.externalId ?? '',
          reason,
          via,
        },
      });
      return Object.assign(session, { status: SessionStatus.ENDED, endedAt, endReason: reason });
    });
  }

  private async createOnce(
    ctx: RequestContext,
    cred: ResolvedCredential,
    room: RoomRequest,
    customId: string,
    via: Via,
  ): Promise<VideoSession> {
    const repo = this.ds.getRepository(VideoSession);
    // A little longer than a claim can live, so a caller outlasts an abandoned claim and takes over.
    const deadline = Date.now() + this.claimWaitMs() + 1000;
    while (Date.now() < deadline) {
      const open = await repo.findOne({
        where: {
          tenantId: ctx.tenantId,
          credentialId: cred.id,
          customId,
          status: SessionStatus.ACTIVE,
        },
      });
      if (open) return open;
      const claim = await this.claim(ctx, cred, room, customId);
      if (claim) return this.createAtVendor(ctx, cred, room, via, claim);
      await sleep(POLL_MS); // another instance holds the claim: wait for it to finish or fail
    }
    throw new DomainException(
      ErrorCode.PROVIDER_UNAVAILABLE,
      'The session is still being created by another request: try again',
      { reason: 'claim_timeout' },
    );
  }

  /** Inserts the CREATING row for a key; null when another open row holds it. */
  private async claim(
    ctx: RequestContext,
    cred: ResolvedCredential,
    room: RoomRequest,
    customId: string,
  ): Promise<VideoSession | null> {
    const repo = this.ds.getRepository(VideoSession);
    // A claim older than the longest vendor call belongs to a process that died mid-call.
    await repo
      .createQueryBuilder()
      .delete()
      .where('tenant_id = :t AND credential_id = :c AND custom_id = :k AND status = :s', {
        t: ctx.tenantId,
        c: cred.id,
        k: customId,
        s: SessionStatus.CREATING,
      })
      .andWhere('created_at < :stale', { stale: new Date(Date.now() - this.claimWaitMs()) })
      .execute();
    try {
      return await repo.save(this.newRow(ctx, cred, room, SessionStatus.CREATING));
    } catch (err) {
      if (isUniqueViolation(err)) return null;
      throw err;
    }
  }

  /**
   * Calls the vendor, then records the session (activating the claim, if any) with its audit event
   * in one transaction. A failure at either step leaves no row behind.
   */
  private async createAtVendor(
    ctx: RequestContext,
    cred: ResolvedCredential,
    room: RoomRequest,
    via: Via,
    claim: VideoSession | null,
  ): Promise<VideoSession> {
    const repo = this.ds.getRepository(VideoSession);
    const dropClaim = async (): Promise<void> => {
      if (claim) await repo.delete({ id: claim.id, status: SessionStatus.CREATING });
    };
    let created;
    try {
      created = await this.registry.get(cred.kind).createRoom(cred, room);
    } catch (err) {
      await dropClaim();
      throw err;
    }
    try {
      return await this.ds.transaction(async (m) => {
        const row = claim ?? this.newRow(ctx, cred, room, SessionStatus.ACTIVE);
        Object.assign(row, {
          status: SessionStatus.ACTIVE,
          externalId: created.externalId,
          details: created.details,
        });
        const saved = await m.save(row);
        await this.audit.record(m, ctx, {
          action: 'session.created',
          targetType: 'video_session',
          targetId: saved.id,
          metadata: {
            provider: cred.kind,
            externalId: created.externalId,
            customSessionId: room.customId ?? null,
            via,
          },
        });
        return saved;
      });
    } catch (err) {
      await dropClaim();
      if (!isUniqueViolation(err)) throw err;
      // Another open session already holds this vendor room (a LiveKit room named by `name`
      // earlier), or — after a claim was taken over as stale — this key: that session is the
      // answer. A room the vendor made only for this call is closed again.
      const existing =
        (await this.findOpenByExternalId(ctx, cred.id, created.externalId)) ??
        (room.customId
          ? await repo.findOne({
              where: {
                tenantId: ctx.tenantId,
                credentialId: cred.id,
                customId: room.customId,
                status: SessionStatus.ACTIVE,
              },
            })
          : null);
      if (!existing) throw err;
      if (existing.externalId !== created.externalId) {
        await this.registry
          .get(cred.kind)
          .closeRoom(cred, created.externalId)
          .catch(() => undefined);
      }
      return existing;
    }
  }

  private newRow(
    ctx: RequestContext,
    cred: ResolvedCredential,
    room: RoomRequest,
    status: SessionStatus,
  ): VideoSession {
    return this.ds.getRepository(VideoSession).create({
      tenantId: ctx.tenantId,
      provider: cred.kind,
      credentialId: cred.id,
      externalId: null,
      customId: room.customId ?? null,
      name: room.name ?? null,
      status,
      options: room.options ?? {},
      details: {},
      createdByType: ctx.actorType,
      createdById: ctx.actorId,
      createdByLabel: ctx.actorLabel.slice(0, 320),
      endedAt: null,
      endReason: null,
    });
  }

  /**
   * How long a claim may be in flight before it counts as abandoned (its process died), and how
   * long an identical call waits for it: a vendor create makes at most two timed attempts (Pexip's
   * token exchange and meeting, or one call and its retry), each bounded by the timeout; add a
   * generous margin for the database work around them.
   */
  private claimWaitMs(): number {
    return this.config.providers.timeoutMs * 2 + 5000;
  }
}

const OPTION_BLOCK: Partial<Record<ProviderKind, string>> = {
  [ProviderKind.OPENVIDU]: 'openvidu',
  [ProviderKind.LIVEKIT]: 'livekit',
  [ProviderKind.FISHJAM]: 'fishjam',
};

/** The options for the credential's vendor; a block for another vendor is refused. */
function optionsFor(
  kind: ProviderKind,
  options: SessionRequest['options'],
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, values] of Object.entries(options ?? {}) as Array<
    [ProviderKind, Record<string, unknown> | null | undefined]
  >) {
    if (values == null) continue;
    if (k !== kind) {
      const block = OPTION_BLOCK[k] ?? k.toLowerCase();
      throw DomainException.badInput(block, `${block} options do not apply to a ${kind} session`);
    }
    for (const [field, v] of Object.entries(values)) if (v != null) out[field] = v;
  }
  return out;
}
