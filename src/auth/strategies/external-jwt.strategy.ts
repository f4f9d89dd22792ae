import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { type Request } from 'express';
import {
  type JWTPayload,
  type JWTVerifyGetKey,
  createRemoteJWKSet,
  decodeJwt,
  decodeProtectedHeader,
  errors as joseErrors,
  jwtVerify,
} from 'jose';
import { Strategy } from 'passport';
import { DataSource } from 'typeorm';
import { type AuthenticatedPrincipal } from '../../common/auth/principal';
import { ActorType, AuthMethod } from '../../common/auth/roles';
import { APP_CONFIG, type AppConfig } from '../../common/config';
import { metaOf } from '../../common/context';
import { isDatabaseUnavailable } from '../../common/errors';
import { AuthenticationFailed } from '../authentication-failed';
import { JwtIssuer } from '../identity-providers/identity-provider.entities';
import { ProvisioningService, mapRole } from '../identity-providers/provisioning.service';
import { ACCESS_TOKEN_TYP } from '../tokens/token.service';

const ISSUER_CACHE_MS = 30_000;

interface Actions {
  success(user: AuthenticatedPrincipal): void;
  fail(info: string): void;
  error(err: Error): void;
}

/**
 * Bearer JWTs from a tenant's trusted issuer (configureJwtIssuer). Keys come only from that
 * issuer's configured JWKS URI (fetched with a timeout, cached, refetched on an unknown `kid` at most
 * once per cooldown); `jku`, `x5u` and embedded `jwk` headers are never used. Algorithms, issuer,
 * audience and `exp` are enforced; the token is valid for the issuer's tenant only, and its user is
 * provisioned just in time.
 */
@Injectable()
export class ExternalJwtStrategy extends Strategy {
  override name = 'external-jwt';
  private readonly keySets = new Map<string, { version: number; get: JWTVerifyGetKey }>();
  private issuerCache = new Map<string, { at: number; rows: JwtIssuer[] }>();

  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly provisioning: ProvisioningService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    super();
  }

  override authenticate(req: Request): void {
    const self = this as unknown as Actions;
    const m = /^Bearer ([A-Za-z0-9._~+/=-]+)$/.exec(req.headers.authorization ?? '');
    if (!m) return self.fail('not_applicable');
    let claims: JWTPayload;
    try {
      if (decodeProtectedHeader(m[1]).typ === ACCESS_TOKEN_TYP) return self.fail('not_applicable');
      claims = decodeJwt(m[1]);
    } catch {
      return self.fail('token_invalid');
    }
    if (typeof claims.iss !== 'string') return self.fail('token_invalid');
    this.verify(m[1], claims, req).then(
      (p) => self.success(p),
      (err: unknown) =>
        err instanceof AuthenticationFailed || isDatabaseUnavailable(err)
          ? self.error(err as Error)
          : self.fail('token_invalid'),
    );
  }

  private async verify(
    token: string,
    claims: JWTPayload,
    req: Request,
  ): Promise<AuthenticatedPrincipal> {
    const rows = await this.issuers(claims.iss!);
    if (rows.length === 0)
      throw new AuthenticationFailed('unknown_issuer', AuthMethod.EXTERNAL_JWT);
    // (issuer, audience) is unique: choose the one row the token is addressed to before any key is
    // fetched, so another tenant's configuration of the same issuer can never interfere.
    const audiences = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
    const row = rows.find((r) => audiences.includes(r.audience));
    if (!row) throw new AuthenticationFailed('wrong_audience', AuthMethod.EXTERNAL_JWT);
    try {
      const { payload } = await jwtVerify(token, this.keySet(row), {
        issuer: row.issuer,
        audience: row.audience,
        algorithms: row.algorithms,
        clockTolerance: 30,
        requiredClaims: ['exp', 'sub'],
      });
      return await this.principal(row, payload, req);
    } catch (err) {
      if (err instanceof AuthenticationFailed || isDatabaseUnavailable(err)) throw err;
      throw new AuthenticationFailed(joseReason(err), AuthMethod.EXTERNAL_JWT, row.tenantId);
    }
  }

  private async principal(
    row: JwtIssuer,
    payload: JWTPayload,
    req: Request,
  ): Promise<AuthenticatedPrincipal> {
    const pick = (claim: string): unknown => (payload as Record<string, unknown>)[claim];
    const email = pick(row.claimMapping.email);
    const name = pick(row.claimMapping.name);
    const { user, membership } = await this.ds.transaction((m) =>
      this.provisioning.provision(
        m,
        row.tenantId,
        {
          issuer: row.issuer,
          subject: String(payload.sub),
          email: typeof email === 'string' ? email : null,
          name: typeof name === 'string' ? name : null,
          roles: pick(row.claimMapping.roles),
        },
        mapRole(pick(row.claimMapping.roles), row.roleMapping),
        AuthMethod.EXTERNAL_JWT,
        metaOf(req),
      ),
    );
    const tenant = await this.ds.query<Array<{ slug: string }>>(
      'SELECT slug FROM tenant WHERE id = $1',
      [row.tenantId],
    );
    return {
      actorType: ActorType.USER,
      actorId: user.id,
      actorLabel: user.email,
      userId: user.id,
      apiKeyId: null,
      tenantId: row.tenantId,
      tenantSlug: tenant[0].slug,
      role: membership.role,
      authMethod: AuthMethod.EXTERNAL_JWT,
      isPlatformAdmin: false,
    };
  }

  private async issuers(iss: string): Promise<JwtIssuer[]> {
    const hit = this.issuerCache.get(iss);
    if (hit && Date.now() - hit.at < ISSUER_CACHE_MS) return hit.rows;
    const rows = await this.ds
      .getRepository(JwtIssuer)
      .find({ where: { issuer: iss, enabled: true }, order: { createdAt: 'ASC' } });
    if (this.issuerCache.size > 1000) this.issuerCache = new Map();
    this.issuerCache.set(iss, { at: Date.now(), rows });
    return rows;
  }

  /** One remote key set per issuer row, rebuilt when the row changes. */
  private keySet(row: JwtIssuer): JWTVerifyGetKey {
    const version = row.updatedAt.getTime();
    const cached = this.keySets.get(row.id);
    if (cached && cached.version === version) return cached.get;
    const get = createRemoteJWKSet(new URL(row.jwksUri), {
      timeoutDuration: this.config.auth.idpTimeoutMs,
      cooldownDuration: this.config.auth.jwksCooldownMs,
      cacheMaxAge: 600_000,
    });
    this.keySets.set(row.id, { version, get });
    return get;
  }

  /** Forget cached issuer rows (after configureJwtIssuer on this instance). */
  invalidate(): void {
    this.issuerCache = new Map();
  }
}

function joseReason(err: unknown): string {
  if (err instanceof joseErrors.JWTExpired) return 'token_expired';
  if (err instanceof joseErrors.JWTClaimValidationFailed) {
    if (err.claim === 'aud') return 'wrong_audience';
    if (err.claim === 'nbf') return 'token_not_yet_valid';
    if (err.claim === 'iss') return 'wrong_issuer';
    return 'claim_invalid';
  }
  if (err instanceof joseErrors.JOSEAlgNotAllowed) return 'alg_not_allowed';
  if (err instanceof joseErrors.JWKSNoMatchingKey) return 'unknown_kid';
  if (err instanceof joseErrors.JWKSTimeout) return 'jwks_timeout';
  if (err instanceof joseErrors.JWSSignatureVerificationFailed) return 'bad_signature';
  return 'token_invalid';
}
