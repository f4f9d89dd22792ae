import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { DataSource, IsNull, Repository } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import { MemberRole, roleAtLeast } from '../common/auth/roles';
import { type BusCache, Caches } from '../common/cache';
import { type RequestContext } from '../common/context';
import { DomainException } from '../common/errors';
import { exactOrigin } from '../common/http/origin';
import { paginate, type Page, type PageArgs } from '../common/graphql/pagination';
import { hasControlChars } from '../common/text';
import { ParticipantRole, type ProviderKind } from '../providers/provider-kind';
import { ProviderRegistry } from '../providers/provider-registry';
import { validateName } from '../tenants/slug';
import { JoinLink } from './join-link.entity';
import { BROWSER_VENDORS } from '../compat/browser-vendors';

export const JOIN_LINK_PREFIX = 'jl_';
/** `jl_<24 hex>_<43 base64url>`: the key id, then the secret. */
const LINK = /^(jl_[0-9a-f]{24})_([A-Za-z0-9_-]{43})$/;
const DUMMY_HASH = createHash('sha256').update('roomkey-dummy-link').digest();
const MAX_ORIGINS = 20;
const MAX_LIFETIME_MS = 366 * 24 * 3600 * 1000;
export const MAX_LINK_RATE = 10_000;

export interface CreateJoinLinkData {
  name: string;
  provider: ProviderKind;
  roomPattern: string;
  maxRole: ParticipantRole;
  origins: string[];
  ratePerMinute?: number | null;
  expiresAt: Date;
}

/** A link whose secret was verified: what a principal is built from (no secret, no hash). */
export interface VerifiedJoinLink {
  id: string;
  keyId: string;
  name: string;
  tenantId: string;
  tenantSlug: string;
  provider: ProviderKind;
  roomPattern: string;
  maxRole: ParticipantRole;
  origins: readonly string[];
  ratePerMinute: number;
  expiresAt: Date;
}

export type JoinLinkCheck =
  | { ok: true; link: VerifiedJoinLink }
  | {
      ok: false;
      reason: 'malformed_link' | 'unknown_link' | 'bad_secret' | 'revoked' | 'expired';
      /** Set when the link id exists, so the failure is audited in that tenant's log. */
      tenantId: string | null;
      keyId: string | null;
    };

const sha256 = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/**
 * Scoped join links (README "Join links"): created, listed and revoked by OWNER or ADMIN, checked
 * on every request made through one. A verified link is remembered by an HMAC of the exact link
 * presented (as API keys are); revoking drops it in every instance at once.
 */
@Injectable()
export class JoinLinksService {
  private readonly verified: BusCache<VerifiedJoinLink>;
  private readonly cacheKeyKey = randomBytes(32);

  constructor(
    @InjectRepository(JoinLink) private readonly links: Repository<JoinLink>,
    @InjectDataSource() private readonly ds: DataSource,
    private readonly audit: AuditService,
    private readonly caches: Caches,
    private readonly registry: ProviderRegistry,
  ) {
    this.verified = caches.create<VerifiedJoinLink>((lru, e) => {
      if (e.kind === 'api_key') lru.deleteWhere((l) => l.id === e.id);
      if (e.kind === 'tenant')
        lru.deleteWhere((l) => l.tenantId === e.id || l.tenantSlug === e.slug);
    });
  }

  list<N>(ctx: RequestContext, args: PageArgs, toNode: (l: JoinLink) => N): Promise<Page<N>> {
    const qb = this.links
      .createQueryBuilder('l')
      .where('l.tenantId = :tenantId', { tenantId: ctx.tenantId });
    return paginate(qb, args, 'createdAt', toNode);
  }

  /** Creates a link and returns its secret part, which is never retrievable again. */
  async create(
    ctx: RequestContext,
    data: CreateJoinLinkData,
  ): Promise<{ joinLink: JoinLink; link: string }> {
    if (!roleAtLeast(ctx.role, MemberRole.ADMIN))
      throw DomainException.forbidden('Only OWNER or ADMIN can create join links');
    const fields = this.checked(data);
    const keyId = JOIN_LINK_PREFIX + randomBytes(12).toString('hex');
    const secret = randomBytes(32).toString('base64url');
    return this.ds.transaction(async (m) => {
      const joinLink = await m.save(
        m.create(JoinLink, {
          tenantId: ctx.tenantId,
          keyId,
          ...fields,
          secretHash: sha256(secret),
          createdByUserId: ctx.userId,
          revokedAt: null,
        }),
      );
      await this.audit.record(m, ctx, {
        action: 'join_link.created',
        targetType: 'join_link',
        targetId: joinLink.id,
        metadata: {
          keyId,
          provider: joinLink.provider,
          roomPattern: joinLink.roomPattern,
          maxRole: joinLink.maxRole,
          origins: joinLink.origins.join(' '),
          ratePerMinute: joinLink.ratePerMinute,
          expiresAt: joinLink.expiresAt.toISOString(),
        },
      });
      return { joinLink, link: `${keyId}_${secret}` };
    });
  }

  /** Revokes a link of the caller's tenant at once, in every instance. Revoking twice keeps the first time. */
  async revoke(ctx: RequestContext, id: string): Promise<JoinLink> {
    if (!roleAtLeast(ctx.role, MemberRole.ADMIN))
      throw DomainException.forbidden('Only OWNER or ADMIN can revoke join links');
    const link = await this.links.findOne({ where: { id, tenantId: ctx.tenantId } });
    if (!link) throw DomainException.notFound('Join link');
    if (link.revokedAt) return link;
    return this.ds.transaction(async (m) => {
      await m.update(
        JoinLink,
        { id: link.id, tenantId: ctx.tenantId, revokedAt: IsNull() },
        { revokedAt: new Date() },
      );
      await this.audit.record(m, ctx, {
        action: 'join_link.revoked',
        targetType: 'join_link',
        targetId: link.id,
        metadata: { keyId: link.keyId },
      });
      await this.caches.publish(m, { kind: 'api_key', id: link.id });
      return m.findOneOrFail(JoinLink, { where: { id: link.id, tenantId: ctx.tenantId } });
    });
  }

  /**
   * Checks a link as presented in a path. The secret's hash is always computed and compared in
   * constant time, whether or not the link exists; a remembered link is still refused once it
   * expires.
   */
  async check(presented: string): Promise<JoinLinkCheck> {
    const m = LINK.exec(presented);
    if (!m) return { ok: false, reason: 'malformed_link', tenantId: null, keyId: null };
    const [, keyId, secret] = m;
    const token = this.cacheKey(presented);
    const hit = this.verified.get(token);
    if (hit) return this.accept(hit);
    const epoch = this.verified.epoch;
    const link = await this.links.findOne({ where: { keyId }, relations: { tenant: true } });
    const matches = timingSafeEqual(sha256(secret), link ? link.secretHash : DUMMY_HASH);
    if (!link || !link.tenant)
      return { ok: false, reason: 'unknown_link', tenantId: null, keyId: null };
    const fail = (reason: 'bad_secret' | 'revoked'): JoinLinkCheck => ({
      ok: false,
      reason,
      tenantId: link.tenantId,
      keyId: link.keyId,
    });
    if (!matches) return fail('bad_secret');
    if (link.revokedAt) return fail('revoked');
    const verified: VerifiedJoinLink = Object.freeze({
      id: link.id,
      keyId: link.keyId,
      name: link.name,
      tenantId: link.tenantId,
      tenantSlug: link.tenant.slug,
      provider: link.provider,
      roomPattern: link.roomPattern,
      maxRole: link.maxRole,
      origins: Object.freeze([...link.origins]),
      ratePerMinute: link.ratePerMinute,
      expiresAt: link.expiresAt,
    });
    if (verified.expiresAt.getTime() > Date.now()) this.verified.fill(token, verified, epoch);
    return this.accept(verified);
  }

  private accept(link: VerifiedJoinLink): JoinLinkCheck {
    if (link.expiresAt.getTime() <= Date.now())
      return { ok: false, reason: 'expired', tenantId: link.tenantId, keyId: link.keyId };
    return { ok: true, link };
  }

  private cacheKey(presented: string): string {
    return createHmac('sha256', this.cacheKeyKey).update(presented, 'utf8').digest('base64url');
  }

  private checked(
    data: CreateJoinLinkData,
  ): Pick<
    JoinLink,
    'name' | 'provider' | 'roomPattern' | 'maxRole' | 'origins' | 'ratePerMinute' | 'expiresAt'
  > {
    if (!Object.values(BROWSER_VENDORS).includes(data.provider)) {
      throw DomainException.badInput(
        'provider',
        'join links open browser-facing routes only: OPENVIDU, LIVEKIT, PEXIP, AGORA or FISHJAM',
      );
    }
    if (data.maxRole !== ParticipantRole.SUBSCRIBER && data.maxRole !== ParticipantRole.PUBLISHER) {
      throw DomainException.badInput('maxRole', 'maxRole must be SUBSCRIBER or PUBLISHER');
    }
    if (
      data.maxRole === ParticipantRole.SUBSCRIBER &&
      !this.registry.get(data.provider).receiveOnly(null)
    ) {
      throw DomainException.badInput(
        'maxRole',
        `${data.provider} credentials cannot be held to receiving only: a ${data.provider} link needs maxRole PUBLISHER`,
      );
    }
    const roomPattern = data.roomPattern;
    if (
      roomPattern.length === 0 ||
      roomPattern.length > 200 ||
      hasControlChars(roomPattern) ||
      roomPattern !== roomPattern.normalize('NFC')
    ) {
      throw DomainException.badInput(
        'roomPattern',
        'roomPattern must be 1-200 characters in NFC form, without control characters',
      );
    }
    if (data.origins.length === 0 || data.origins.length > MAX_ORIGINS) {
      throw DomainException.badInput('origins', `list 1 to ${MAX_ORIGINS} origins`);
    }
    const origins = [...new Set(data.origins.map((o, i) => exactOrigin(o, i)))];
    const ratePerMinute = data.ratePerMinute ?? 60;
    if (!Number.isInteger(ratePerMinute) || ratePerMinute < 1 || ratePerMinute > MAX_LINK_RATE) {
      throw DomainException.badInput(
        'ratePerMinute',
        `ratePerMinute must be a whole number from 1 to ${MAX_LINK_RATE}`,
      );
    }
    const left = data.expiresAt.getTime() - Date.now();
    if (!(left > 0) || left > MAX_LIFETIME_MS) {
      throw DomainException.badInput('expiresAt', 'expiresAt must be in the future, within a year');
    }
    return {
      name: validateName(data.name),
      provider: data.provider,
      roomPattern,
      maxRole: data.maxRole,
      origins,
      ratePerMinute,
      expiresAt: data.expiresAt,
    };
  }
}
