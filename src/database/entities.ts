import { ApiKey } from '../api-keys/api-key.entity';
import { AuditChainHead, AuditCheckpoint, AuditEvent } from '../audit/audit-event.entity';
import { LoginCode, RefreshToken, SigningKey } from '../auth/tokens/token.entities';
import {
  ExternalIdentity,
  IdentityProvider,
  JwtIssuer,
  LoginAttempt,
} from '../auth/identity-providers/identity-provider.entities';
import { JoinLink } from '../join-links/join-link.entity';
import { ProviderCredential } from '../providers/provider-credential.entity';
import { SessionConnection } from '../sessions/connection.entity';
import { VideoSession } from '../sessions/video-session.entity';
import { WebhookReceipt } from '../sessions/webhook-receipt.entity';
import { Membership } from '../members/membership.entity';
import { Tenant } from '../tenants/tenant.entity';
import { User } from '../users/user.entity';

/** Every entity, listed explicitly (no globs: the same list works from ts and from dist). */
export const ENTITIES = [
  Tenant,
  User,
  Membership,
  ApiKey,
  JoinLink,
  AuditEvent,
  AuditChainHead,
  AuditCheckpoint,
  SigningKey,
  RefreshToken,
  LoginCode,
  IdentityProvider,
  JwtIssuer,
  ExternalIdentity,
  LoginAttempt,
  ProviderCredential,
  VideoSession,
  SessionConnection,
  WebhookReceipt,
];
