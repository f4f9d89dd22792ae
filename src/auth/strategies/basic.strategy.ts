import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { type Request } from 'express';
import { BasicStrategy as PassportBasicStrategy } from 'passport-http';
import { type AuthenticatedPrincipal } from '../../common/auth/principal';
import { DomainException } from '../../common/errors';
import { BasicAuthService } from '../basic-auth.service';
import { hasControlChars } from '../../common/text';

/**
 * What a malformed Basic header is told: how to write one. Its shape is no secret, so unlike a
 * wrong password (always the generic answer) it is explained.
 */
export const MALFORMED_BASIC =
  'The Authorization header is not valid HTTP Basic: send "Basic " and the base64 of "email:password" (or "keyId:secret"), with no line breaks';

/** Longest Authorization header we decode: ample for a 1024-character password. */
const MAX_HEADER = 6 * 1024;
const BASIC = /^Basic +([A-Za-z0-9+/]+={0,2}) *$/i;

/**
 * Splits `Authorization: Basic …` per RFC 7617: user id before the *first* colon, password after.
 * passport-http 0.3 splits on every colon (truncating passwords that contain one) and accepts
 * any scheme containing "basic"; this parser replaces that part and keeps the rest.
 */
export function parseBasicHeader(
  header: string | undefined,
): { user: string; password: string } | null {
  if (!header || header.length > MAX_HEADER) return null;
  const m = BASIC.exec(header);
  if (!m || m[1].length % 4 !== 0) return null;
  const decoded = Buffer.from(m[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0 || colon === decoded.length - 1) return null;
  if (hasControlChars(decoded)) return null;
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/** The passport.Strategy actions available inside `authenticate` (absent from the typings). */
interface StrategyActions {
  fail(challenge: string, status: number): void;
  error(err: Error): void;
  success(user: AuthenticatedPrincipal): void;
}

@Injectable()
export class BasicStrategy extends PassportStrategy(PassportBasicStrategy, 'basic') {
  constructor(private readonly basicAuth: BasicAuthService) {
    super({ passReqToCallback: true, realm: 'Roomkey' });
  }

  override authenticate(req: Request): void {
    const self = this as unknown as StrategyActions;
    const header = req.headers.authorization;
    if (!header || !/^Basic(?: |$)/i.test(header)) {
      self.fail('not_applicable', 401); // not ours: another strategy may take it
      return;
    }
    const creds = parseBasicHeader(header);
    if (!creds) {
      self.error(DomainException.unauthenticated('malformed_basic_header', MALFORMED_BASIC));
      return;
    }
    const tenant = req.headers['x-roomkey-tenant'];
    this.validate(req, creds.user, creds.password, Array.isArray(tenant) ? tenant[0] : tenant).then(
      (principal) => self.success(principal),
      // Objects pass as they are: a database error must keep its code (and may come from
      // another realm, where `instanceof Error` is false).
      (err: unknown) =>
        self.error(
          typeof err === 'object' && err !== null ? (err as Error) : new Error(String(err)),
        ),
    );
  }

  validate(
    req: Request,
    user: string,
    password: string,
    tenant?: string,
  ): Promise<AuthenticatedPrincipal> {
    return this.basicAuth.authenticate(user, password, tenant, {
      clientIp: req.ip ?? null,
      route: 'basic',
    });
  }
}
