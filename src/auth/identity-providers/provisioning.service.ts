import { Injectable } from '@nestjs/common';
import { type EntityManager } from 'typeorm';
import { type AuditActor } from '../../audit/audit-actor';
import { AuditService } from '../../audit/audit.service';
import { ActorType, type AuthMethod, MemberRole, roleAtLeast } from '../../common/auth/roles';
import { Membership } from '../../members/membership.entity';
import { type User } from '../../users/user.entity';
import { UsersService } from '../../users/users.service';
import { AuthenticationFailed } from '../authentication-failed';
import { ExternalIdentity, type RoleMappingEntry } from './identity-provider.entities';

export interface ExternalProfile {
  issuer: string;
  subject: string;
  email: string | null;
  name: string | null;
  /** Raw role values from the IdP (claim or attribute), mapped through the tenant's role mapping. */
  roles: unknown;
}

/** Highest role whose mapped value appears among the IdP's role values; MEMBER otherwise. */
export function mapRole(values: unknown, mapping: readonly RoleMappingEntry[]): MemberRole {
  const list = (
    Array.isArray(values) ? values : typeof values === 'string' ? values.split(/[\s,]+/) : []
  ).filter((v): v is string => typeof v === 'string');
  let role = MemberRole.MEMBER;
  for (const m of mapping) {
    if (list.includes(m.value) && roleAtLeast(m.role as MemberRole, role))
      role = m.role as MemberRole;
  }
  return role;
}

/**
 * Just-in-time provisioning for SSO and external JWTs. The identity is keyed on (issuer, subject),
 * never on the email: the first sign-in links (or creates) the user with that email, later sign-ins
 * follow the link even if the email changes. A member an admin removed is not silently re-added.
 */
@Injectable()
export class ProvisioningService {
  constructor(
    private readonly users: UsersService,
    private readonly audit: AuditService,
  ) {}

  async provision(
    m: EntityManager,
    tenantId: string,
    profile: ExternalProfile,
    role: MemberRole,
    method: AuthMethod,
    meta: Pick<AuditActor, 'requestId' | 'clientIp' | 'userAgent'>,
  ): Promise<{ user: User; membership: Membership }> {
    const link = await m.findOne(ExternalIdentity, {
      where: { tenantId, issuer: profile.issuer, subject: profile.subject },
    });
    if (link) {
      const membership = await m.findOne(Membership, {
        where: { tenantId, userId: link.userId },
        relations: { user: true },
      });
      if (!membership?.user) throw new AuthenticationFailed('membership_removed', method, tenantId);
      return { user: membership.user, membership };
    }
    if (!profile.email) throw new AuthenticationFailed('email_missing', method, tenantId);
    const existing = await this.users.findByEmail(profile.email, m);
    if (existing) {
      // An IdP vouches for its own tenant only. Linking it to an account by email is safe just when
      // that account already belongs to this tenant (its admins vouched for the address), and never
      // for a platform administrator: otherwise any tenant's IdP could sign in as anyone.
      const member = await m.exists(Membership, { where: { tenantId, userId: existing.id } });
      if (existing.isPlatformAdmin || !member) {
        throw new AuthenticationFailed('email_belongs_to_other_account', method, tenantId);
      }
    }
    const user =
      existing ?? (await this.users.create({ email: profile.email, displayName: profile.name }, m));
    await m.insert(ExternalIdentity, {
      tenantId,
      issuer: profile.issuer,
      subject: profile.subject,
      userId: user.id,
    });
    let membership = await m.findOne(Membership, { where: { tenantId, userId: user.id } });
    if (!membership) {
      membership = await m.save(m.create(Membership, { tenantId, userId: user.id, role }));
      await this.audit.record(
        m,
        {
          ...meta,
          tenantId,
          actorType: ActorType.USER,
          actorId: user.id,
          actorLabel: user.email,
          authMethod: method,
        },
        {
          action: 'member.added',
          targetType: 'member',
          targetId: membership.id,
          metadata: { userId: user.id, role, newUser: true },
        },
      );
    }
    membership.user = user;
    return { user, membership };
  }
}
