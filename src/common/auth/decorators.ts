import { SetMetadata } from '@nestjs/common';
import { type MemberRole } from './roles';

export const IS_PUBLIC_KEY = 'roomkey:isPublic';
export const ROLES_KEY = 'roomkey:roles';

/** Opts a route or operation out of authentication. Every use must be deliberate. */
export const Public = (): MethodDecorator & ClassDecorator => SetMetadata(IS_PUBLIC_KEY, true);

/** Marks an operation that only platform administrators may call. */
export const PLATFORM_ADMIN = 'PLATFORM_ADMIN' as const;

export type RolesDecision = readonly MemberRole[] | typeof PLATFORM_ADMIN;

/**
 * The roles allowed to call an operation. Every GraphQL query and mutation needs either this or
 * `@Public()`; the roles guard refuses operations with no decision.
 */
export const Roles = (...roles: MemberRole[] | [typeof PLATFORM_ADMIN]): MethodDecorator =>
  SetMetadata(
    ROLES_KEY,
    roles.length === 1 && roles[0] === PLATFORM_ADMIN ? PLATFORM_ADMIN : roles,
  );
