import { type ActorType, type AuthMethod, type MemberRole } from './roles';

/** What a successful authentication yields; attached to the request as `req.user`. */
export interface AuthenticatedPrincipal {
  actorType: ActorType.USER | ActorType.API_KEY;
  /** User id or API key id. */
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
}
