import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import {
  type CacheItem,
  type CacheProvider,
  type Profile,
  SAML,
  ValidateInResponseTo,
} from '@node-saml/passport-saml';
import { DOMParser } from '@xmldom/xmldom';
import { DataSource } from 'typeorm';
import { AuthMethod } from '../../common/auth/roles';
import { APP_CONFIG, type AppConfig } from '../../common/config';
import { type RequestMeta } from '../../common/context';
import { DomainException } from '../../common/errors';
import { AuthenticationFailed } from '../authentication-failed';
import {
  type IdentityProvider,
  IdentityProviderKind,
  type SamlConfig,
} from './identity-provider.entities';
import { LoginAttempts, lookupKey } from './login-attempts';
import { mapRole } from './provisioning.service';
import { isAllowedRedirect } from './redirects';
import { SsoLoginService } from './sso-login.service';

const REQUEST_TTL_MS = 10 * 60_000;
/** Generous for any real assertion, far below the 1 MB body cap. */
export const MAX_SAML_RESPONSE_BYTES = 256 * 1024;

/** node-saml's InResponseTo cache, in the database: shared by every instance, single use. */
class DbRequestCache implements CacheProvider {
  constructor(
    private readonly attempts: LoginAttempts,
    private readonly tenantId: string,
  ) {}

  async saveAsync(key: string, value: string): Promise<CacheItem | null> {
    await this.attempts.put(
      null,
      this.tenantId,
      'SAML_REQUEST',
      lookupKey('saml-req', this.tenantId, key),
      { value },
      REQUEST_TTL_MS,
    );
    return { value, createdAt: Date.now() };
  }

  async getAsync(key: string): Promise<string | null> {
    return (
      (
        await this.attempts.peek(
          this.tenantId,
          'SAML_REQUEST',
          lookupKey('saml-req', this.tenantId, key),
        )
      )?.value ?? null
    );
  }

  async removeAsync(key: string | null): Promise<string | null> {
    if (!key) return null;
    return (
      (
        await this.attempts.take(
          this.tenantId,
          'SAML_REQUEST',
          lookupKey('saml-req', this.tenantId, key),
        )
      )?.value ?? null
    );
  }
}

/**
 * SAML 2.0 per tenant with node-saml (through @node-saml/passport-saml): one `SAML` instance per
 * identity provider version, never rebuilt per request. Signed assertions with SHA-256 are
 * required, audience is our entity id, InResponseTo is validated against a database cache
 * (unsolicited responses only when the tenant allows them, and then never twice). node-saml does
 * not check Recipient, Destination or the assertion Issuer, nor refuse DOCTYPE or SHA-1: this does.
 */
@Injectable()
export class SamlService {
  private readonly instances = new Map<string, { version: number; saml: SAML }>();
  private readonly attempts: LoginAttempts;

  constructor(
    @InjectDataSource() ds: DataSource,
    private readonly sso: SsoLoginService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    this.attempts = new LoginAttempts(ds);
  }

  entityId(slug: string): string {
    return `${this.config.auth.publicUrl}/auth/saml/${slug}/metadata`;
  }

  acsUrl(slug: string): string {
    return `${this.config.auth.publicUrl}/auth/saml/${slug}/acs`;
  }

  async metadata(slug: string): Promise<string> {
    const provider = await this.sso.provider(slug, IdentityProviderKind.SAML);
    return this.saml(provider).generateServiceProviderMetadata(null, null);
  }

  /** Starts an SP-initiated sign-in: the IdP URL (redirect binding) carrying a fresh AuthnRequest. */
  async start(slug: string, redirectUri: unknown): Promise<string> {
    const provider = await this.sso.provider(slug, IdentityProviderKind.SAML);
    const cfg = provider.config as SamlConfig;
    if (!isAllowedRedirect(redirectUri, cfg.redirectUris)) {
      throw DomainException.badInput('redirect_uri', 'redirect_uri is not allowed for this tenant');
    }
    return this.saml(provider).getAuthorizeUrlAsync(redirectUri, undefined, {});
  }

  /** Consumes a POSTed response; returns the allow-listed RelayState with a one-time code. */
  async acs(slug: string, body: Record<string, unknown>, meta: RequestMeta): Promise<string> {
    const provider = await this.sso.provider(slug, IdentityProviderKind.SAML);
    const cfg = provider.config as SamlConfig;
    const fail = (reason: string): Promise<AuthenticationFailed> =>
      this.sso.fail(provider.tenantId, AuthMethod.SAML, reason, meta);
    const relayState = body.RelayState;
    if (!isAllowedRedirect(relayState, cfg.redirectUris))
      throw await fail('relay_state_not_allowed');
    const response = body.SAMLResponse;
    if (typeof response !== 'string' || response.length === 0) throw await fail('response_missing');
    if (response.length > MAX_SAML_RESPONSE_BYTES) throw await fail('response_too_large');
    const refusal = screenResponseXml(Buffer.from(response, 'base64').toString('utf8'));
    if (refusal) throw await fail(refusal);

    let profile: Profile | null;
    try {
      ({ profile } = await this.saml(provider).validatePostResponseAsync({
        SAMLResponse: response,
      }));
    } catch (err) {
      throw await fail(samlReason(err));
    }
    if (!profile) throw await fail('no_profile');
    const problem = this.checkVerifiedAssertion(profile, cfg, slug);
    if (problem) throw await fail(problem);
    // Each assertion is accepted once, solicited or not. This also stops a used response from
    // being replayed with its (unsigned) Response/@InResponseTo stripped, and concurrent replays.
    const id = assertionId(profile);
    if (!id) throw await fail('assertion_id_missing');
    const first = await this.attempts.put(
      null,
      provider.tenantId,
      'SAML_ASSERTION',
      lookupKey('saml-assertion', provider.tenantId, id),
      {},
      24 * 3_600_000,
    );
    if (!first) throw await fail('assertion_replayed');
    const attrs = profile as Record<string, unknown>;
    const pick = (name: string): unknown =>
      attrs[name] ?? (profile.attributes as Record<string, unknown> | undefined)?.[name];
    const emailValue =
      pick(cfg.attributeMapping.email) ??
      profile.email ??
      (profile.nameID.includes('@') ? profile.nameID : null);
    const nameValue = pick(cfg.attributeMapping.displayName);
    const roles = pick(cfg.attributeMapping.roles);
    return this.sso.complete(
      provider.tenantId,
      {
        issuer: cfg.idpEntityId,
        subject: profile.nameID,
        email: typeof emailValue === 'string' ? emailValue.toLowerCase() : null,
        name: typeof nameValue === 'string' ? nameValue : null,
        roles,
      },
      mapRole(roles, cfg.roleMapping),
      AuthMethod.SAML,
      relayState,
      meta,
    );
  }

  /** Checks node-saml leaves to us, on the signature-verified assertion only. */
  private checkVerifiedAssertion(profile: Profile, cfg: SamlConfig, slug: string): string | null {
    const assertion = profile.getAssertion?.() as
      { Assertion?: Record<string, unknown> } | undefined;
    const a = assertion?.Assertion;
    if (!a) return 'assertion_missing';
    if (textOf(first(a.Issuer)) !== cfg.idpEntityId) return 'wrong_issuer';
    const scd = first(first(first(a.Subject)?.SubjectConfirmation)?.SubjectConfirmationData);
    const recipient = (scd?.$ as Record<string, string> | undefined)?.Recipient;
    if (recipient !== this.acsUrl(slug)) return recipient ? 'wrong_recipient' : 'recipient_missing';
    const signedInResponseTo = (scd?.$ as Record<string, string> | undefined)?.InResponseTo;
    if (signedInResponseTo !== undefined && signedInResponseTo !== profile.inResponseTo)
      return 'in_response_to_mismatch';
    // Destination sits on the (possibly unsigned) Response: refuse a wrong one, tolerate absence.
    const destination = /<(?:\w+:)?Response\b[^>]*\bDestination="([^"]*)"/.exec(
      profile.getSamlResponseXml?.() ?? '',
    )?.[1];
    if (destination !== undefined && destination !== this.acsUrl(slug)) return 'wrong_destination';
    return null;
  }

  private saml(provider: IdentityProvider & { slug: string }): SAML {
    const version = provider.updatedAt.getTime();
    const cached = this.instances.get(provider.id);
    if (cached && cached.version === version) return cached.saml;
    const cfg = provider.config as SamlConfig;
    const saml = new SAML({
      entryPoint: cfg.ssoUrl,
      issuer: this.entityId(provider.slug),
      callbackUrl: this.acsUrl(provider.slug),
      audience: this.entityId(provider.slug),
      idpCert: cfg.idpCertificates,
      wantAssertionsSigned: true,
      wantAuthnResponseSigned: false,
      signatureAlgorithm: 'sha256',
      digestAlgorithm: 'sha256',
      validateInResponseTo: cfg.allowUnsolicited
        ? ValidateInResponseTo.ifPresent
        : ValidateInResponseTo.always,
      requestIdExpirationPeriodMs: REQUEST_TTL_MS,
      cacheProvider: new DbRequestCache(this.attempts, provider.tenantId),
      acceptedClockSkewMs: 30_000,
      maxAssertionAgeMs: 10 * 60_000,
      disableRequestedAuthnContext: true,
      identifierFormat: null,
    });
    this.instances.set(provider.id, { version, saml });
    return saml;
  }
}

function first(v: unknown): Record<string, unknown> | undefined {
  return Array.isArray(v)
    ? (v[0] as Record<string, unknown>)
    : (v as Record<string, unknown> | undefined);
}

function textOf(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  const o = v as { _?: unknown } | undefined;
  return typeof o?._ === 'string' ? o._ : undefined;
}

function assertionId(profile: Profile): string | undefined {
  const a = (profile.getAssertion?.() as { Assertion?: { $?: { ID?: string } } } | undefined)
    ?.Assertion;
  return a?.$?.ID;
}

function samlReason(err: unknown): string {
  const m = err instanceof Error ? err.message : '';
  if (/InResponseTo/i.test(m))
    return /missing/i.test(m) ? 'unsolicited_refused' : 'in_response_to_invalid';
  if (/signature/i.test(m)) return 'signature_invalid';
  if (/audience/i.test(m)) return 'wrong_audience';
  if (/expired|NotOnOrAfter|NotBefore|too old|not yet valid|subject confirmation/i.test(m))
    return 'assertion_expired';
  return 'response_invalid';
}

const DSIG = 'http://www.w3.org/2000/09/xmldsig#';
const SIGNATURE_ALGORITHMS = new Set([
  'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
  'http://www.w3.org/2001/04/xmldsig-more#rsa-sha384',
  'http://www.w3.org/2001/04/xmldsig-more#rsa-sha512',
]);
const DIGEST_ALGORITHMS = new Set([
  'http://www.w3.org/2001/04/xmlenc#sha256',
  'http://www.w3.org/2001/04/xmldsig-more#sha384',
  'http://www.w3.org/2001/04/xmlenc#sha512',
]);

/**
 * Refuses what node-saml would let through, on the parsed document (the same xmldom node-saml
 * uses, so entity and character references read as node-saml reads them): any DOCTYPE, and any
 * signature or digest weaker than SHA-256.
 */
export function screenResponseXml(xml: string): string | null {
  if (/<!DOCTYPE/i.test(xml)) return 'doctype_refused';
  let doc: Document;
  try {
    let failed = false;
    doc = new DOMParser({
      errorHandler: { error: () => (failed = true), fatalError: () => (failed = true) },
    }).parseFromString(xml, 'text/xml');
    if (failed || !doc?.documentElement) return 'response_malformed';
  } catch {
    return 'response_malformed';
  }
  if (doc.doctype) return 'doctype_refused';
  const algorithms = (name: string): string[] =>
    Array.from(doc.getElementsByTagNameNS(DSIG, name)).map(
      (e) => e.getAttribute('Algorithm') ?? '',
    );
  if (algorithms('SignatureMethod').some((a) => !SIGNATURE_ALGORITHMS.has(a)))
    return 'weak_signature_algorithm';
  if (algorithms('DigestMethod').some((a) => !DIGEST_ALGORITHMS.has(a)))
    return 'weak_digest_algorithm';
  return null;
}
