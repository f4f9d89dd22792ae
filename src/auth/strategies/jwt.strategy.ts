import { Inject, Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { type Request } from 'express';
import { decodeProtectedHeader } from 'jose';
import { ExtractJwt, Strategy } from 'passport-jwt';
import { type AuthenticatedPrincipal } from '../../common/auth/principal';
import { ActorType, AuthMethod } from '../../common/auth/roles';
import { APP_CONFIG, type AppConfig } from '../../common/config';
import { AuthenticationFailed } from '../authentication-failed';
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
@Injectable()
export class JwtStrategy extends PassportStrategy(Strategy, 'jwt') {
  constructor(
    keys: SigningKeysService,
    private readonly sessions: SessionCheckService,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    super({
      jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
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

  async validate(_req: Request, claims: AccessClaims): Promise<AuthenticatedPrincipal> {
    const { sub, tid, sid, exp, amr } = claims;
    if (
      typeof sub !== 'string' ||
      typeof tid !== 'string' ||
      typeof sid !== 'string' ||
      typeof exp !== 'number'
    ) {
      throw new AuthenticationFailed('missing_claims', AuthMethod.JWT);
    }
    const session = await this.sessions.check(sub, tid, sid);
    if (!session.ok)
      throw new AuthenticationFailed(session.reason, AuthMethod.JWT, tid, session.email);
    return {
      actorType: ActorType.USER,
      actorId: sub,
      actorLabel: session.email,
      userId: sub,
      apiKeyId: null,
      tenantId: tid,
      tenantSlug: session.tenantSlug,
      role: session.role,
      authMethod: AuthMethod.JWT,
      // Platform rights only for sessions started with the account's own password, never through a
      // tenant's identity provider.
      isPlatformAdmin:
        session.isPlatformAdmin && Array.isArray(amr) && amr[0] === AuthMethod.BASIC_PASSWORD,
      sessionId: sid,
    };
  }
}
