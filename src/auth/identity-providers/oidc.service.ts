import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import * as client from 'openid-client';
import { DataSource } from 'typeorm';
import { AuthMethod } from '../../common/auth/roles';
import { APP_CONFIG, type AppConfig } from '../../common/config';
import { type RequestMeta } from '../../common/context';
import { SecretBox } from '../../common/crypto/secret-box';
import { DomainException } from '../../common/errors';
import { AuthenticationFailed } from '../authentication-failed';
import {
  type IdentityProvider,
  IdentityProviderKind,
  type OidcConfig,
} from './identity-provider.entities';
import { secretContext } from './identity-providers.service';
import { LoginAttempts, lookupKey } from './login-attempts';
import { mapRole } from './provisioning.service';
import { isAllowedRedirect, withParams } from './redirects';
import { SsoLoginService } from './sso-login.service';

const ATTEMPT_TTL_MS = 10 * 60_000;

/**
 * OpenID Connect per tenant with openid-client v6: discovery (exact issuer match, cached per
 * provider version, bounded by the IdP timeout), authorization code + PKCE (S256), `state` and
 * `nonce` bound to a single-use server-side attempt, RFC 9207 `iss` checked, identity keyed on
 * (issuer, sub).
 */
@Injectable()
export class OidcService {
  private readonly configs = new Map<
    string,
    { version: number; config: Promise<client.Configuration> }
  >();
  private readonly attempts: LoginAttempts;

  constructor(
    @InjectDataSource() ds: DataSource,
    private readonly box: SecretBox,
    private readonly sso: SsoLoginService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    this.attempts = new LoginAttempts(ds);
  }

  callbackUrl(slug: string): string {
    return `${this.config.auth.publicUrl}/auth/oidc/${slug}/callback`;
  }

  /** Starts a sign-in; returns the IdP authorization URL. The redirect URI must be allow-listed. */
  async start(slug: string, redirectUri: unknown): Promise<string> {
    const provider = await this.sso.provider(slug, IdentityProviderKind.OIDC);
    const cfg = provider.config as OidcConfig;
    if (!isAllowedRedirect(redirectUri, cfg.redirectUris)) {
      throw DomainException.badInput('redirect_uri', 'redirect_uri is not allowed for this tenant');
    }
    const config = await this.configuration(provider);
    const state = client.randomState();
    const nonce = client.randomNonce();
    const verifier = client.randomPKCECodeVerifier();
    await this.attempts.put(
      null,
      provider.tenantId,
      'OIDC',
      lookupKey('oidc', state),
      {
        nonce,
        verifier: this.box.seal(verifier, `oidc-attempt|${provider.tenantId}`),
        redirectUri,
        providerVersion: String(provider.updatedAt.getTime()),
      },
      ATTEMPT_TTL_MS,
    );
    return client.buildAuthorizationUrl(config, {
      redirect_uri: this.callbackUrl(slug),
      scope: cfg.scopes.join(' '),
      state,
      nonce,
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
    }).href;
  }

  /**
   * Completes a sign-in from the IdP's redirect. Returns where to send the browser: the
   * allow-listed redirect URI with `code` (or `error`). Throws when no trusted destination is known.
   */
  async callback(slug: string, query: Record<string, unknown>, meta: RequestMeta): Promise<string> {
    const provider = await this.sso.provider(slug, IdentityProviderKind.OIDC);
    const cfg = provider.config as OidcConfig;
    const state = typeof query.state === 'string' ? query.state : null;
    const attempt = state
      ? await this.attempts.take(provider.tenantId, 'OIDC', lookupKey('oidc', state))
      : null;
    if (!attempt)
      throw await this.sso.fail(
        provider.tenantId,
        AuthMethod.OIDC,
        state ? 'state_invalid' : 'state_missing',
        meta,
      );
    const denied = async (reason: string): Promise<string> => {
      await this.sso.fail(provider.tenantId, AuthMethod.OIDC, reason, meta);
      return withParams(attempt.redirectUri, { error: 'access_denied' });
    };
    try {
      const config = await this.configuration(provider);
      const current = new URL(this.callbackUrl(slug));
      for (const [k, v] of Object.entries(query))
        if (typeof v === 'string') current.searchParams.set(k, v);
      const tokens = await client.authorizationCodeGrant(config, current, {
        pkceCodeVerifier: this.box.openString(
          attempt.verifier,
          `oidc-attempt|${provider.tenantId}`,
        ),
        expectedState: state!,
        expectedNonce: attempt.nonce,
        idTokenExpected: true,
      });
      const claims = tokens.claims();
      if (!claims) return denied('id_token_missing');
      let info: Record<string, unknown> = claims;
      if (typeof claims.email !== 'string') {
        info = {
          ...(await client.fetchUserInfo(config, tokens.access_token, claims.sub)),
          ...claims,
        };
      }
      const email = typeof info.email === 'string' ? info.email.toLowerCase() : null;
      if (info.email_verified === false) return denied('email_not_verified');
      if (
        cfg.allowedEmailDomains.length > 0 &&
        !(email && cfg.allowedEmailDomains.includes(email.split('@')[1]))
      ) {
        return denied('email_domain_not_allowed');
      }
      const roles = info[cfg.rolesClaim];
      return await this.sso.complete(
        provider.tenantId,
        {
          issuer: cfg.issuer,
          subject: claims.sub,
          email,
          name: typeof info.name === 'string' ? info.name : null,
          roles,
        },
        mapRole(roles, cfg.roleMapping),
        AuthMethod.OIDC,
        attempt.redirectUri,
        meta,
      );
    } catch (err) {
      if (err instanceof AuthenticationFailed) return denied(err.reason ?? 'failed');
      return denied(oidcReason(err));
    }
  }

  /** Discovery result per provider version; a failed discovery is not cached. */
  private configuration(provider: IdentityProvider): Promise<client.Configuration> {
    const version = provider.updatedAt.getTime();
    const cached = this.configs.get(provider.id);
    if (cached && cached.version === version) return cached.config;
    const cfg = provider.config as OidcConfig;
    const secret = this.box.openString(provider.secretSealed!, secretContext(provider));
    const config = client
      .discovery(new URL(cfg.issuer), cfg.clientId, undefined, client.ClientSecretBasic(secret), {
        timeout: Math.ceil(this.config.auth.idpTimeoutMs / 1000),
        execute: this.config.auth.allowInsecureIdp ? [client.allowInsecureRequests] : [],
      })
      .catch((err: unknown) => {
        this.configs.delete(provider.id);
        throw err;
      });
    this.configs.set(provider.id, { version, config });
    return config;
  }
}

/** A short reason code from an openid-client / oauth4webapi error, never its free text. */
function oidcReason(err: unknown): string {
  const e = err as { code?: unknown; error?: unknown; name?: unknown };
  if (typeof e.error === 'string') return `idp_${e.error}`;
  if (typeof e.code === 'string') return e.code.toLowerCase();
  return typeof e.name === 'string' ? e.name.toLowerCase() : 'oidc_error';
}
