import { type ParticipantRole, type ProviderKind } from '../../providers/provider-kind';
import { type ActorType, type AuthMethod, type MemberRole } from './roles';

/** What a scoped join link allows (src/join-links): carried by its principal and context. */
export interface JoinLinkScope {
  id: string;
  provider: ProviderKind;
  roomPattern: string;
  maxRole: ParticipantRole;
}

/** What a successful authentication yields; attached to the request as `req.user`. */
export interface AuthenticatedPrincipal {
  actorType: ActorType.USER | ActorType.API_KEY | ActorType.JOIN_LINK;
  /** User id, API key id or join link id. */
  actorId: string;
  /** A display label: the user's email or the key's id. Never a secret. */
  actorLabel: string;
  userId: string | null;
  apiKeyId: string | null;
  tenantId: string;
  tenantSlug: string;
  role: MemberRole;
  authMethod: AuthMethod;
  isPlatformAdmin: boolean;
  /** Roomkey access tokens: the session (refresh family) they belong to; logout revokes it. */
  sessionId?: string;
  /** A join link's scope: what its requests may create and issue. */
  joinLink?: JoinLinkScope;
}
