import { type MemberRole } from '../common/auth/roles';

/**
 * The closed vocabulary of audited actions, each with the metadata it carries. Metadata holds
 * identifiers, roles and reason codes — never a secret, password, token or key.
 */
export interface AuditActionMetadata {
  'auth.login.succeeded': { method: string };
  'auth.login.failed': { method: string; reason: string };
  /** One principal's authenticated requests in one window (ISO `from` inclusive, `to` exclusive). */
  'auth.succeeded.summary': { method: string; count: number; from: string; to: string };
  'authz.denied': { operation: string; reason: string };
  'tenant.created': { slug: string; ownerUserId: string };
  'member.added': { userId: string; role: MemberRole; newUser: boolean };
  'member.role_changed': { userId: string; from: MemberRole; to: MemberRole };
  'member.removed': { userId: string; role: MemberRole };
  'api_key.created': { keyId: string; role: MemberRole; expiresAt: string | null };
  'api_key.revoked': { keyId: string };
  'join_link.created': {
    keyId: string;
    provider: string;
    roomPattern: string;
    maxRole: string;
    /** The origins, separated by spaces (metadata values are scalars). */
    origins: string;
    ratePerMinute: number;
    expiresAt: string;
  };
  'join_link.revoked': { keyId: string };
  'auth.token.refreshed': { familyId: string };
  'auth.refresh.reuse_detected': { familyId: string };
  'auth.logout': { familyId: string; revoked: number };
  'auth.code.exchanged': { method: string };
  'auth.signing_key.rotated': { kid: string };
  'identity_provider.configured': { kind: string; issuer: string; enabled: boolean };
  'jwt_issuer.configured': { issuer: string; audience: string; enabled: boolean };
  'provider_credential.created': {
    kind: string;
    name: string;
    isDefault: boolean;
    fingerprint: string | null;
  };
  'provider_credential.updated': {
    kind: string;
    name: string;
    isDefault: boolean;
    fingerprint: string | null;
  };
  'provider_credential.deleted': {
    kind: string;
    name: string;
    isDefault: boolean;
    fingerprint: string | null;
  };
  'provider_credential.tested': { kind: string; ok: boolean; latencyMs: number };
  'provider_credential.rotated': { rewrapped: number };
  'tenant.cors_updated': { origins: string[] };
  'session.created': {
    provider: string;
    externalId: string;
    customSessionId: string | null;
    via: string;
  };
  'session.ended': { provider: string; externalId: string; reason: string; via: string };
  'connection.created': {
    sessionId: string;
    provider: string;
    role: string;
    identity: string;
    expiresAt: string | null;
    via: string;
    /** The operation or compatibility route that issued it (`graphql:createConnection`, `agora.rtc`). */
    route: string;
  };
  'connection.revoked': { sessionId: string; provider: string; reason: string; via: string };
  'agora.rtm_token.issued': {
    userId: string;
    /** The stream channel the token may join and publish data in (a name or `*`), if any. */
    streamChannel: string | null;
    expiresAt: string;
    via: string;
    route: string;
  };
  'agora.chat_token.issued': {
    /** `app`: the Chat app-wide token (no user); `user`: one Chat user's token. */
    scope: 'app' | 'user';
    userId: string | null;
    expiresAt: string;
    via: string;
    route: string;
  };
  'compat.called': { route: string; status: number };
  'red5.validated': {
    reason: string;
    type: string | null;
    streamId: string | null;
    connectionId: string | null;
  };
  'red5.invalidated': { reason: string; streamId: string | null; connectionId: string | null };
  'webhook.received': {
    provider: string;
    credentialId: string;
    event: string;
    result: string;
  };
  'audit.pruned': { before: string; lastSeq: string; removed: number };
  'rate_limit.exceeded': {
    scope: string;
    route: string;
    windowStart: string;
    windowSeconds: number;
    count: number;
  };
  'audit.exported': { format: string; from: string | null; to: string | null };
}

export type AuditAction = keyof AuditActionMetadata;

/** Every action with its usual target type; the list the GraphQL filter validates against. */
export const AUDIT_ACTIONS: Record<
  AuditAction,
  { targetType: string | null; description: string }
> = {
  'auth.login.succeeded': {
    targetType: null,
    description:
      'A caller signed in interactively (password login, or an OIDC or SAML callback); refreshes and code exchanges have their own actions.',
  },
  'auth.succeeded.summary': {
    targetType: null,
    description:
      "A principal's authenticated requests: one summary per principal, method and minute, with the count.",
  },
  'auth.login.failed': {
    targetType: null,
    description: 'An authentication attempt failed (reason code only).',
  },
  'authz.denied': {
    targetType: null,
    description: 'An authenticated caller was refused an operation.',
  },
  'tenant.created': { targetType: 'tenant', description: 'A tenant was created.' },
  'member.added': { targetType: 'member', description: 'A user joined the tenant.' },
  'member.role_changed': { targetType: 'member', description: "A member's role changed." },
  'member.removed': { targetType: 'member', description: 'A member was removed.' },
  'api_key.created': { targetType: 'api_key', description: 'An API key was created.' },
  'api_key.revoked': { targetType: 'api_key', description: 'An API key was revoked.' },
  'join_link.created': {
    targetType: 'join_link',
    description: 'A scoped join link was created (its scope; never the link).',
  },
  'join_link.revoked': { targetType: 'join_link', description: 'A join link was revoked.' },
  'auth.token.refreshed': { targetType: 'session', description: 'A refresh token was rotated.' },
  'auth.refresh.reuse_detected': {
    targetType: 'session',
    description: 'A used refresh token was presented again; its whole session was revoked.',
  },
  'auth.logout': { targetType: 'session', description: 'A session was signed out.' },
  'auth.code.exchanged': {
    targetType: null,
    description: 'A one-time SSO login code was exchanged for tokens.',
  },
  'auth.signing_key.rotated': {
    targetType: null,
    description: 'The token-signing key was rotated.',
  },
  'identity_provider.configured': {
    targetType: 'identity_provider',
    description: 'OIDC or SAML sign-in was configured.',
  },
  'jwt_issuer.configured': {
    targetType: 'jwt_issuer',
    description: 'A trusted external JWT issuer was configured.',
  },
  'provider_credential.created': {
    targetType: 'provider_credential',
    description: 'A vendor credential was stored.',
  },
  'provider_credential.updated': {
    targetType: 'provider_credential',
    description: 'A vendor credential was changed.',
  },
  'provider_credential.deleted': {
    targetType: 'provider_credential',
    description: 'A vendor credential was deleted.',
  },
  'provider_credential.tested': {
    targetType: 'provider_credential',
    description: 'A vendor credential was tested.',
  },
  'provider_credential.rotated': {
    targetType: null,
    description: 'Stored secrets were re-wrapped under a new master key.',
  },
  'tenant.cors_updated': {
    targetType: 'tenant',
    description: 'The browser origins allowed on the compatibility routes changed.',
  },
  'session.created': {
    targetType: 'video_session',
    description: 'A session was created with a vendor.',
  },
  'session.ended': {
    targetType: 'video_session',
    description: 'A session was ended (by a caller or a vendor webhook).',
  },
  'connection.created': {
    targetType: 'connection',
    description:
      'A join credential was issued; one event per credential, naming the via and route it was asked through (the credential itself is never recorded).',
  },
  'connection.revoked': { targetType: 'connection', description: 'A join credential was revoked.' },
  'agora.rtm_token.issued': {
    targetType: 'provider_credential',
    description:
      'An Agora RTM token was issued (with its stream channel, if any, and the via and route it was asked through).',
  },
  'agora.chat_token.issued': {
    targetType: 'provider_credential',
    description:
      'An Agora Chat token was issued: a user token, or the app-wide token (with the via and route it was asked through).',
  },
  'compat.called': {
    targetType: null,
    description:
      'A vendor-compatible REST route failed or was refused (route and HTTP status); a successful mint is its issuance event.',
  },
  'red5.validated': {
    targetType: 'connection',
    description: 'Red5 Pro asked to validate a credential (allowed, or denied with a reason code).',
  },
  'red5.invalidated': {
    targetType: 'connection',
    description: 'Red5 Pro reported a credential finished; it cannot be used again.',
  },
  'webhook.received': {
    targetType: 'provider_credential',
    description: 'A vendor webhook arrived (applied, duplicate, ignored or refused).',
  },
  'audit.pruned': {
    targetType: null,
    description: 'Old audit events were removed behind a signed checkpoint.',
  },
  'audit.exported': { targetType: null, description: 'The audit log was exported.' },
  'rate_limit.exceeded': {
    targetType: null,
    description:
      'Requests were refused by a rate limit: one summary per source, route and minute, with the count.',
  },
};

export function isAuditAction(value: string): value is AuditAction {
  return Object.hasOwn(AUDIT_ACTIONS, value);
}
