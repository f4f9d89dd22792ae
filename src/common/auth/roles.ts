import { registerEnumType } from '@nestjs/graphql';

/** A member's role in a tenant. Order matters: earlier roles include the later ones. */
export enum MemberRole {
  OWNER = 'OWNER',
  ADMIN = 'ADMIN',
  MEMBER = 'MEMBER',
}
registerEnumType(MemberRole, {
  name: 'MemberRole',
  description: 'Role of a member or API key within a tenant.',
  valuesMap: {
    OWNER: { description: 'Full control, including managing owners.' },
    ADMIN: { description: 'Manages members, API keys, identity providers and vendor credentials.' },
    MEMBER: { description: 'Creates sessions and join credentials.' },
  },
});

/** Every tenant role: operations any member may call (services may narrow them further). */
export const ANY_MEMBER: MemberRole[] = [MemberRole.OWNER, MemberRole.ADMIN, MemberRole.MEMBER];

const RANK: Record<MemberRole, number> = { OWNER: 3, ADMIN: 2, MEMBER: 1 };

/** True when `role` has at least the rights of `required`. */
export function roleAtLeast(role: MemberRole, required: MemberRole): boolean {
  return RANK[role] >= RANK[required];
}

/** How the caller authenticated. */
export enum AuthMethod {
  BASIC_API_KEY = 'BASIC_API_KEY',
  BASIC_PASSWORD = 'BASIC_PASSWORD',
  JWT = 'JWT',
  /** A Roomkey access token from the HttpOnly session cookie (README "Cookie sessions"). */
  COOKIE = 'COOKIE',
  EXTERNAL_JWT = 'EXTERNAL_JWT',
  OIDC = 'OIDC',
  SAML = 'SAML',
  /** A scoped join link in the path (`/t/<slug>/j/<link>/<vendor>/…`). */
  JOIN_LINK = 'JOIN_LINK',
  SYSTEM = 'SYSTEM',
  NONE = 'NONE',
}
registerEnumType(AuthMethod, { name: 'AuthMethod', description: 'How the caller authenticated.' });

/** Who acted. */
export enum ActorType {
  USER = 'USER',
  API_KEY = 'API_KEY',
  JOIN_LINK = 'JOIN_LINK',
  SYSTEM = 'SYSTEM',
  VENDOR = 'VENDOR',
  ANONYMOUS = 'ANONYMOUS',
}
registerEnumType(ActorType, { name: 'ActorType', description: 'Kind of actor behind a request.' });
