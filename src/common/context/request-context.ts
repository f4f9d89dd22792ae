import { type AuthenticatedPrincipal, type JoinLinkScope } from '../auth/principal';
import { ActorType, AuthMethod, MemberRole } from '../auth/roles';

/** Request facts known before authentication. */
export interface RequestMeta {
  requestId: string;
  clientIp: string | null;
  userAgent: string | null;
}

/**
 * The caller of a service method, passed explicitly as the first argument. The tenant comes from
 * here and nowhere else.
 */
export class RequestContext implements RequestMeta {
  constructor(
    readonly tenantId: string,
    readonly tenantSlug: string,
    readonly actorType: ActorType,
    readonly actorId: string | null,
    readonly actorLabel: string,
    readonly userId: string | null,
    readonly apiKeyId: string | null,
    readonly role: MemberRole,
    readonly authMethod: AuthMethod,
    readonly isPlatformAdmin: boolean,
    readonly requestId: string,
    readonly clientIp: string | null,
    readonly userAgent: string | null,
    /** Set for Roomkey access tokens: the session that logout revokes. */
    readonly sessionId: string | null = null,
    /** Set for a join link's requests: what they may create and issue (src/join-links). */
    readonly joinLink: JoinLinkScope | null = null,
  ) {}

  static fromPrincipal(p: AuthenticatedPrincipal, meta: RequestMeta): RequestContext {
    return new RequestContext(
      p.tenantId,
      p.tenantSlug,
      p.actorType,
      p.actorId,
      p.actorLabel,
      p.userId,
      p.apiKeyId,
      p.role,
      p.authMethod,
      p.isPlatformAdmin,
      meta.requestId,
      meta.clientIp,
      meta.userAgent,
      p.sessionId ?? null,
      p.joinLink ?? null,
    );
  }

  /** A context for the CLI and background jobs, acting as OWNER of one tenant. */
  static system(tenant: { id: string; slug: string }, requestId = 'system'): RequestContext {
    return new RequestContext(
      tenant.id,
      tenant.slug,
      ActorType.SYSTEM,
      null,
      'system',
      null,
      null,
      MemberRole.OWNER,
      AuthMethod.SYSTEM,
      true,
      requestId,
      null,
      null,
    );
  }
}
