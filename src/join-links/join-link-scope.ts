import { type JoinLinkScope } from '../common/auth/principal';
import { DomainException } from '../common/errors';
import { ParticipantRole, type ProviderKind } from '../providers/provider-kind';

const RANK: Record<ParticipantRole, number> = { SUBSCRIBER: 1, PUBLISHER: 2, MODERATOR: 3 };

/**
 * Whether `name` matches `pattern`, where `*` matches any run of characters (none included) and
 * everything else matches itself. Linear in practice (greedy, backtracking only to the last `*`),
 * so no pattern an admin writes can make a request slow, as a regular expression could.
 */
export function roomMatches(pattern: string, name: string): boolean {
  let p = 0;
  let n = 0;
  let star = -1;
  let mark = 0;
  while (n < name.length) {
    if (p < pattern.length && pattern[p] !== '*' && pattern[p] === name[n]) {
      p++;
      n++;
    } else if (p < pattern.length && pattern[p] === '*') {
      star = p++;
      mark = n;
    } else if (star !== -1) {
      p = star + 1;
      n = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.length && pattern[p] === '*') p++;
  return p === pattern.length;
}

/** Refuses a link of another vendor. */
export function checkLinkVendor(scope: JoinLinkScope, provider: ProviderKind): void {
  if (provider !== scope.provider) {
    throw DomainException.forbidden(
      `This join link is for ${scope.provider} only`,
      'join_link_vendor',
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
  if (provider) checkLinkVendor(scope, provider);
  // A room without a caller-chosen name (a generated id) is covered only by `*`.
  const name = roomName ?? '';
  if (!roomMatches(scope.roomPattern, name)) {
    throw DomainException.forbidden('This join link does not cover that room', 'join_link_room');
  }
}

/**
 * Refuses, through a SUBSCRIBER link, a credential the vendor does not hold to receiving only
 * (`receiveOnly`, from the vendor's adapter: a Pexip participant or a Fishjam peer could publish,
 * a Fishjam livestream viewer token cannot), so the record never says SUBSCRIBER of a credential
 * that could publish.
 */
export function checkLinkJoin(
  scope: JoinLinkScope | null | undefined,
  provider: ProviderKind,
  role: ParticipantRole | null | undefined,
  receiveOnly: boolean,
): void {
  if (!scope || role !== ParticipantRole.SUBSCRIBER || receiveOnly) return;
  throw DomainException.forbidden(
    `A ${provider} credential from this route could publish: this join link issues at most SUBSCRIBER`,
    'join_link_role',
  );
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
