import { Injectable, type OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager, Not } from 'typeorm';
import { type AuditActor } from '../audit/audit-actor';
import { AuditService } from '../audit/audit.service';
import { type RequestContext } from '../common/context';
import { DomainException } from '../common/errors';
import { checkLinkRoom } from '../join-links/join-link-scope';
import { type Page, type PageArgs, paginate } from '../common/graphql/pagination';
import { CUSTOM_KEY, DISPLAY_TEXT, vendorName } from '../providers/names';
import { type ProviderCredential } from '../providers/provider-credential.entity';
import { type ProviderKind } from '../providers/provider-kind';
import { ProviderRegistry } from '../providers/provider-registry';
import { CredentialLifecycle } from '../providers/vault/credential-lifecycle';
import { CredentialVault } from '../providers/vault/credential-vault';
import { type ResolvedCredential, type RoomRequest } from '../providers/video-provider';
import { type SessionFilterInput } from './dto/sessions.args';
import { assertMayManage } from './session-policy';
import { SessionCache } from './session-cache';
import { type Via, SessionCreator } from './session-creator';
import { SessionStatus } from './session-status';
import { VideoSession } from './video-session.entity';

export { type Via } from './session-creator';

/** What a caller asks for; GraphQL and every compatibility route build one of these. */
export interface SessionRequest {
  provider?: ProviderKind | null;
  credentialId?: string | null;
  customSessionId?: string | null;
  name?: string | null;
  /** Vendor options, keyed by the vendor they are meant for (checked against the credential). */
  options?: Partial<Record<ProviderKind, Record<string, unknown> | null | undefined>>;
}

/**
 * Sessions: checked, created once per vendor room (SessionCreator), recorded with their creator,
 * listed, ended through the vendor. Identical calls in this process share the in-flight promise.
 */
@Injectable()
export class SessionsService implements OnModuleInit {
  private readonly inflight = new Map<string, Promise<VideoSession>>();
  /**
   * The credential each session object of a current request was found or created with: saves a
   * second lookup when the same request then issues a join (the compat routes' hot path).
   */
  private readonly resolved = new WeakMap<VideoSession, ResolvedCredential>();

  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly vault: CredentialVault,
    private readonly registry: ProviderRegistry,
    private readonly audit: AuditService,
    private readonly creator: SessionCreator,
    private readonly cache: SessionCache,
    private readonly lifecycle: CredentialLifecycle,
  ) {}

  onModuleInit(): void {
    this.lifecycle.onBeforeDelete((m, ctx, credential, force) =>
      this.endForDeletedCredential(m, ctx, credential, force),
    );
  }

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
    const cred = await this.vault.resolve(ctx, req.credentialId ?? null, req.provider ?? undefined);
    // A join link creates only rooms of its vendor whose name its pattern covers.
    checkLinkRoom(ctx.joinLink, cred.kind, customId);
    const room: RoomRequest = { customId, name, options: this.optionsFor(cred.kind, req.options) };
    this.registry.get(cred.kind).validateRoom(room);
    if (!customId)
      return this.known(await this.creator.createAtVendor(ctx, cred, room, via, null), cred);

    const key = `${ctx.tenantId}|${cred.id}|${customId}`;
    let pending = this.inflight.get(key);
    if (!pending) {
      pending = this.creator
        .createOnce(ctx, cred, room, customId, via)
        .finally(() => this.inflight.delete(key));
      this.inflight.set(key, pending);
    }
    return this.known(await pending, cred);
  }

  /** Remembers the credential a session object was found or created with (see `resolved`). */
  private known(session: VideoSession, cred: ResolvedCredential): VideoSession {
    this.resolved.set(session, cred);
    return session;
  }

  /** The open session with this vendor id, for compatibility routes that address sessions so. */
  findOpenByExternalId(
    ctx: Pick<RequestContext, 'tenantId'>,
    credentialId: string,
    externalId: string,
  ): Promise<VideoSession | null> {
    return this.creator.openByExternalId(ctx, credentialId, externalId);
  }

  /** The open session with this vendor id under a credential (given, or the default of `kind`). */
  async findOpenForKind(
    ctx: Pick<RequestContext, 'tenantId'>,
    kind: ProviderKind,
    credentialId: string | null,
    externalId: string,
  ): Promise<VideoSession | null> {
    const cred = await this.vault.resolve(ctx, credentialId, kind);
    const session = await this.findOpenByExternalId(ctx, cred.id, externalId);
    return session && this.known(session, cred);
  }

  /** The open session with this customSessionId under a credential (given, or the default of `kind`). */
  async findOpenByCustomId(
    ctx: RequestContext,
    kind: ProviderKind,
    credentialId: string | null,
    customSessionId: string,
  ): Promise<VideoSession | null> {
    const customId = vendorName(customSessionId, 'customSessionId', CUSTOM_KEY);
    const cred = await this.vault.resolve(ctx, credentialId, kind);
    const session = await this.creator.openByKey(ctx, cred, customId);
    return session && this.known(session, cred);
  }

  /**
   * The decrypted credential a session was created with. A session this request just created or
   * found already carries it, which saves the lookup on the compatibility routes' hot path.
   */
  credentialOf(
    ctx: Pick<RequestContext, 'tenantId'>,
    session: VideoSession,
  ): Promise<ResolvedCredential> {
    const known = this.resolved.get(session);
    if (known && known.id === session.credentialId) return Promise.resolve(known);
    if (!session.credentialId) {
      throw DomainException.conflict('The credential of this session was deleted', 'sessionId');
    }
    return this.vault.resolve(ctx, session.credentialId, session.provider);
  }

  async get(ctx: Pick<RequestContext, 'tenantId'>, id: string): Promise<VideoSession> {
    const row = await this.cache.get(this.cache.byId(ctx.tenantId, id), () =>
      this.ds.getRepository(VideoSession).findOne({ where: { id, tenantId: ctx.tenantId } }),
    );
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
      const cred = await this.vault.resolve(ctx, session.credentialId, session.provider);
      await this.registry.get(session.provider).closeRoom(cred, session.externalId);
    }
    return this.markEnded(ctx, session, 'ended', via);
  }

  /** Records an end (endSession, a vendor webhook, a room the vendor no longer has), audited once. */
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
      await this.cache.ended(m, session);
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

  /**
   * Before a credential is deleted (CredentialLifecycle): refused while it has open sessions,
   * unless `force`; then each active one is recorded as ended (`credential_deleted`; nothing is
   * closed at the vendor) and keeps its history with no credential, and claims still in flight
   * are dropped (their activation will find them gone).
   */
  private async endForDeletedCredential(
    m: EntityManager,
    ctx: RequestContext,
    credential: ProviderCredential,
    force: boolean,
  ): Promise<void> {
    const own = { tenantId: ctx.tenantId, credentialId: credential.id };
    const open = await m.count(VideoSession, {
      where: { ...own, status: Not(SessionStatus.ENDED) },
    });
    if (open > 0 && !force) {
      throw DomainException.conflict(
        `The credential has ${open} open session(s): end them, or pass force: true`,
      );
    }
    const active = await m.find(VideoSession, { where: { ...own, status: SessionStatus.ACTIVE } });
    for (const session of active)
      await this.markEnded(ctx, session, 'credential_deleted', 'graphql', m);
    await m.delete(VideoSession, { ...own, status: SessionStatus.CREATING });
  }

  /** The options for the credential's vendor; a block for another vendor is refused. */
  private optionsFor(
    kind: ProviderKind,
    options: SessionRequest['options'],
  ): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [k, values] of Object.entries(options ?? {}) as Array<
      [ProviderKind, Record<string, unknown> | null | undefined]
    >) {
      if (values == null) continue;
      if (k !== kind) {
        const block = this.registry.blockOf(k);
        throw DomainException.badInput(block, `${block} options do not apply to a ${kind} session`);
      }
      for (const [field, v] of Object.entries(values)) if (v != null) out[field] = withoutNulls(v);
    }
    return out;
  }
}

/** A copy without null or undefined members at any depth (nested GraphQL inputs are full of them). */
function withoutNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutNulls);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([, v]) => v != null)
      .map(([k, v]) => [k, withoutNulls(v)]),
  );
}
