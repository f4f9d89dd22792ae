import { type JoinLinkScope } from '../common/auth/principal';
import { DomainException } from '../common/errors';
import { type ParticipantRole, ProviderKind } from '../providers/provider-kind';

/** The compatibility path segment of each vendor a link can open (Red5 is server to server). */
export const LINK_VENDORS: Record<string, ProviderKind> = {
  openvidu: ProviderKind.OPENVIDU,
  livekit: ProviderKind.LIVEKIT,
  pexip: ProviderKind.PEXIP,
  agora: ProviderKind.AGORA,
  fishjam: ProviderKind.FISHJAM,
};

const RANK: Record<ParticipantRole, number> = { SUBSCRIBER: 1, PUBLISHER: 2, MODERATOR: 3 };

const patterns = new Map<string, RegExp>();

/** `*` matches any run of characters (none included); everything else matches itself. */
export function roomMatcher(pattern: string): RegExp {
  let re = patterns.get(pattern);
  if (!re) {
    const body = pattern
      .split('*')
      .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*');
    re = new RegExp(`^${body}$`, 's');
    if (patterns.size >= 1000) patterns.clear();
    patterns.set(pattern, re);
  }
  return re;
}

/** A token tied to no room (an Agora RTM login): only the link's vendor is checked. */
export function checkLinkVendor(
  scope: JoinLinkScope | null | undefined,
  provider: ProviderKind,
): void {
  if (scope && provider !== scope.provider) {
    throw DomainException.forbidden(
      `This join link is for ${scope.provider} only`,
      'join_link_provider',
    );
  }
}

/** What a link never issues: tokens that reach beyond a room (Agora Chat). */
export function refuseLink(scope: JoinLinkScope | null | undefined, what: string): void {
  if (scope) {
    throw DomainException.forbidden(`A join link cannot issue ${what}`, 'join_link_route');
  }
}

/** Refuses a room the link does not cover: another vendor, or a name outside its pattern. */
export function checkLinkRoom(
  scope: JoinLinkScope | null | undefined,
  provider: ProviderKind | null | undefined,
  roomName: string | null | undefined,
): void {
  if (!scope) return;
  if (provider && provider !== scope.provider) {
    throw DomainException.forbidden(
      `This join link is for ${scope.provider} only`,
      'join_link_provider',
    );
  }
  // A room without a caller-chosen name (a generated id) is covered only by `*`.
  const name = roomName ?? '';
  if (!roomMatcher(scope.roomPattern).test(name)) {
    throw DomainException.forbidden('This join link does not cover that room', 'join_link_room');
  }
}

/**
 * The role a link issues: the one asked for when it is within the link's maximum (refused above
 * it), or the link's maximum when the route asks for none.
 */
export function linkRole(
  scope: JoinLinkScope | null | undefined,
  requested: ParticipantRole | null | undefined,
): ParticipantRole | null | undefined {
  if (!scope) return requested;
  if (!requested) return scope.maxRole;
  if (RANK[requested] > RANK[scope.maxRole]) {
    throw DomainException.forbidden(
      `This join link issues at most ${scope.maxRole} credentials`,
      'join_link_role',
    );
  }
  return requested;
}
