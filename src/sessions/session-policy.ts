import { MemberRole, roleAtLeast } from '../common/auth/roles';
import { type RequestContext } from '../common/context';
import { DomainException } from '../common/errors';
import { ParticipantRole } from '../providers/provider-kind';

/*
 * Who may do what with sessions and join credentials (every role is a member of the tenant):
 *
 *   | action                                   | MEMBER            | ADMIN, OWNER |
 *   |------------------------------------------|-------------------|--------------|
 *   | list and read sessions and connections   | yes               | yes          |
 *   | create a session                         | yes               | yes          |
 *   | issue a SUBSCRIBER or PUBLISHER credential | yes             | yes          |
 *   | issue a MODERATOR credential             | no                | yes          |
 *   | join options a vendor reserves to ADMIN  | no                | yes          |
 *   | end a session, revoke a credential       | only its creator  | yes          |
 *
 * API keys act with their own role. The GraphQL operations allow all three roles; these checks
 * narrow them per request, and every refusal is FORBIDDEN (audited as DENIED). Vendor options
 * that need ADMIN (an OpenVidu IP camera) are named by the adapter (VideoProvider.requiredRole).
 */

/** MODERATOR credentials carry vendor admin rights (LiveKit roomAdmin, OpenVidu MODERATOR). */
export function assertMayIssue(ctx: RequestContext, role: ParticipantRole): void {
  if (role === ParticipantRole.MODERATOR && !roleAtLeast(ctx.role, MemberRole.ADMIN)) {
    throw DomainException.forbidden(
      'Only OWNER or ADMIN can issue MODERATOR credentials',
      'moderator_requires_admin',
    );
  }
}

/** Ending a session or revoking a credential: ADMIN/OWNER, or the actor who created it. */
export function assertMayManage(
  ctx: RequestContext,
  row: { createdById: string | null },
  what: string,
): void {
  if (roleAtLeast(ctx.role, MemberRole.ADMIN)) return;
  if (row.createdById !== null && row.createdById === ctx.actorId) return;
  throw DomainException.forbidden(`A MEMBER can only ${what} when they created it`, 'not_creator');
}
