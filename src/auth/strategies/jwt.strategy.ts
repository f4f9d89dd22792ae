import { Inject, Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { type Request } from 'express';
import { decodeProtectedHeader } from 'jose';
import { ExtractJwt, Strategy } from 'passport-jwt';
import { type AuthenticatedPrincipal } from '../../common/auth/principal';
import { ActorType, AuthMethod } from '../../common/auth/roles';
import { APP_CONFIG, type AppConfig } from '../../common/config';
import { ErrorCode } from '../../common/errors';
import { BROWSER_ROUTE } from '../../compat/browser-vendors';
import { TenantDirectory } from '../../tenants/tenant-directory';
import { AuthenticationFailed } from '../authentication-failed';
import { cookieRequestAllowed, sessionCookieToken } from '../cookie-session';
import { SessionCheckService } from '../tokens/session-check.service';
import { ACCESS_TOKEN_ALG, SigningKeysService } from '../tokens/signing-keys.service';
import { ACCESS_TOKEN_AUDIENCE, ACCESS_TOKEN_TYP } from '../tokens/token.service';

interface AccessClaims {
  sub?: unknown;
  tid?: unknown;
  sid?: unknown;
  exp?: unknown;
  amr?: unknown;
}

/**
 * Bearer Roomkey access tokens. The algorithm list is pinned to ES256, the key comes only from our
 * own key table by `kid` (never from `jku`, `x5u` or an embedded `jwk`), the `typ` must be ours
 * (so an ID token or any other JWT is refused), `exp` is required and skew is at most 30 s. The
 * member must still belong to the tenant and the session must not be revoked (checked ≤ 30 s stale).
 * Tokens that are not ours fail quietly so the external-issuer strategy can try them.
 */
/** Requests whose access token came from the session cookie (README "Cookie sessions"). */
const fromCookie = new WeakSet<Request>();

/** The Bearer header's token, else (with no Authorization header) the session cookie's. */
const bearer = ExtractJwt.fromAuthHeaderAsBearerToken();
function accessToken(req: Request): string | null {
  const header = bearer(req);
  if (header) return header;
  const token = sessionCookieToken(req);
  if (!token) return null;
  fromCookie.add(req);
  return token;
}

@Injectable()
export class JwtStrategy extends PassportStrategy(Strategy, 'jwt') {
  constructor(
    keys: SigningKeysService,
    private readonly sessions: SessionCheckService,
    private readonly tenants: TenantDirectory,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    super({
      jwtFromRequest: accessToken,
      algorithms: [ACCESS_TOKEN_ALG],
      issuer: config.auth.publicUrl,
      audience: ACCESS_TOKEN_AUDIENCE,
      ignoreExpiration: false,
      jsonWebTokenOptions: { clockTolerance: 30 },
      passReqToCallback: true,
      secretOrKeyProvider: (
        _req: Request,
        raw: string,
        done: (err: unknown, key?: string) => void,
      ) => {
        let header: ReturnType<typeof decodeProtectedHeader>;
        try {
          header = decodeProtectedHeader(raw);
        } catch {
          return done(new Error('not_applicable'));
        }
        if (
          header.typ !== ACCESS_TOKEN_TYP ||
          header.alg !== ACCESS_TOKEN_ALG ||
          typeof header.kid !== 'string'
        ) {
          return done(new Error('not_applicable'));
        }
        keys.verificationKey(header.kid).then(
          (key) => (key ? done(null, key.publicPem) : done(new Error('unknown_kid'))),
          (err: unknown) => done(err),
        );
      },
    });
  }

  async validate(req: Request, claims: AccessClaims): Promise<AuthenticatedPrincipal> {
    const { sub, tid, sid, exp, amr } = claims;
    if (
      typeof sub !== 'string' ||
      typeof tid !== 'string' ||
      typeof sid !== 'string' ||
      typeof exp !== 'number'
    ) {
      throw new AuthenticationFailed('missing_claims', AuthMethod.JWT);
    }
    const cookie = fromCookie.has(req);
    const method = cookie ? AuthMethod.COOKIE : AuthMethod.JWT;
    const session = await this.sessions.check(sub, tid, sid);
    if (!session.ok) throw new AuthenticationFailed(session.reason, method, tid, session.email);
    // The tenant's allowed origins count on its compatibility routes only; elsewhere (GraphQL,
    // exports) a cookie is accepted from Roomkey's own origin alone.
    if (cookie) {
      const origins = BROWSER_ROUTE.test(req.path)
        ? await this.tenants.corsOrigins(session.tenantSlug)
        : [];
      if (!cookieRequestAllowed(req, origins)) {
        throw new AuthenticationFailed(
          'cookie_origin',
          AuthMethod.COOKIE,
          tid,
          session.email,
          'A cookie session is accepted only from Roomkey itself or an origin the tenant allowed',
          ErrorCode.FORBIDDEN,
        );
      }
    }
    return {
      actorType: ActorType.USER,
      actorId: sub,
      actorLabel: session.email,
      userId: sub,
      apiKeyId: null,
      tenantId: tid,
      tenantSlug: session.tenantSlug,
      role: session.role,
      authMethod: method,
      // Platform rights only for sessions started with the account's own password, never through a
      // tenant's identity provider.
      isPlatformAdmin:
        session.isPlatformAdmin && Array.isArray(amr) && amr[0] === AuthMethod.BASIC_PASSWORD,
      sessionId: sid,
    };
  }
}
