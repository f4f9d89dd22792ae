import { type JsonWebKey, createPublicKey, randomBytes, randomUUID } from 'node:crypto';
import {
  type JWK,
  type JWTHeaderParameters,
  type JWTPayload,
  SignJWT,
  decodeJwt,
  decodeProtectedHeader,
  exportJWK,
  generateKeyPair,
} from 'jose';
import { AuthSuccessSummary } from '../src/auth/auth-success-summary';
import { AuthMethod, MemberRole } from '../src/common/auth/roles';
import { RequestContext } from '../src/common/context';
import { MembersService } from '../src/members/members.service';
import { SessionCheckService } from '../src/auth/tokens/session-check.service';
import { SigningKeysService } from '../src/auth/tokens/signing-keys.service';
import { TokenService } from '../src/auth/tokens/token.service';
import { seedMember, seedTenant, type SeededTenant, type SeededUser } from './factories/tenancy';
import { type AuditRow, auditRows } from './helpers/audit';
import { errorCode, type GqlResult, startTestApp, type TestApp } from './helpers/test-app';
import { type JwksServer, startJwksServer } from './support/jwks-server';

/**
 * docs/security.md S1 (only valid JWTs pass) and S6 (tenants are isolated) for Roomkey's own
 * access tokens, over real HTTP. Every forged token is built with `jose` here; claim variants are
 * signed with the app's REAL signing key so that only the property under test is wrong.
 */

interface AuthPayload {
  accessToken: string;
  refreshToken: string;
  expiresAt: string;
  tenant: { slug: string };
  user: { email: string };
}
type MeData = {
  me: {
    role: string;
    actorType: string;
    authMethod: string;
    tenant: { slug: string };
    user: { email: string } | null;
  };
};

const LOGIN = `mutation($input: LoginInput!) {
  login(input: $input) { accessToken refreshToken expiresAt tenant { slug } user { email } } }`;
const ME = '{ me { role actorType authMethod tenant { slug } user { email } } }';
const ME_ROLE = '{ me { role } }';
const MEMBERS = '{ members { nodes { id role user { email } } } }';
const REMOVE = 'mutation($id: ID!) { removeMember(memberId: $id) { id } }';
const LOGOUT = 'mutation { logout }';

const b64url = (v: string | Buffer): string => Buffer.from(v).toString('base64url');
const nowSec = (): number => Math.floor(Date.now() / 1000);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
let requestCounter = 0;
const rid = (): string => `jwt-${++requestCounter}-${randomBytes(4).toString('hex')}`;

/** An unsigned JWS (`alg: none` family): header.payload. with an empty signature. */
function unsigned(header: Record<string, unknown>, payload: Record<string, unknown>): string {
  return `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(payload))}.`;
}

describe('Roomkey access tokens (JWT bearer)', () => {
  let t: TestApp;
  let tenant: SeededTenant;
  let member: SeededUser;
  let session: AuthPayload;
  /** Header and claims of a genuine access token, the template every forgery starts from. */
  let realHeader: JWTHeaderParameters;
  let realClaims: JWTPayload;
  /** An attacker's server: jku/x5u pointing here must never be fetched. */
  let attackerServer: JwksServer;
  let attackerKeys: Awaited<ReturnType<typeof generateKeyPair>>;
  let attackerJwk: JWK;

  const login = async (
    user: { email: string; password: string },
    tenantSlug: string,
  ): Promise<AuthPayload> => {
    const r = await t.gql<{ login: AuthPayload }>(LOGIN, {
      input: { email: user.email, password: user.password, tenantSlug },
    });
    expect(r.body.errors).toBeUndefined();
    return r.body.data!.login;
  };

  const bearer = (token: string): string => `Bearer ${token}`;

  const me = (token: string, headers: Record<string, string> = {}): Promise<GqlResult<MeData>> =>
    t.gql<MeData>(ME, {}, { auth: bearer(token), headers });

  /** Claims of a fully valid token for `member` in `tenant`, with fresh times. */
  const validClaims = (overrides: JWTPayload = {}): JWTPayload => {
    const now = nowSec();
    return { ...realClaims, iat: now, nbf: now, exp: now + 600, jti: randomUUID(), ...overrides };
  };

  /** Signs with the app's REAL current signing key and kid. */
  const signReal = async (
    claims: JWTPayload,
    header: Partial<JWTHeaderParameters> = {},
  ): Promise<string> => {
    const { kid, key } = await t.app.get(SigningKeysService).signingKey();
    return new SignJWT(claims)
      .setProtectedHeader({ alg: 'ES256', kid, typ: realHeader.typ, ...header })
      .sign(key);
  };

  /**
   * `{ me { role } }` with the token must be UNAUTHENTICATED, and the attempt must leave exactly
   * one `auth.login.failed` event with a reason code (the expected one, when given) and no part of
   * the token.
   */
  async function expectRefused(token: string, reason?: string | RegExp): Promise<AuditRow> {
    const requestId = rid();
    const r = await t.gql(
      ME_ROLE,
      {},
      { auth: bearer(token), headers: { 'x-request-id': requestId } },
    );
    expect(errorCode(r)).toBe('UNAUTHENTICATED');
    expect(r.body.data ?? null).toBeNull();

    const rows = await auditRows(t, { requestId });
    expect(rows).toHaveLength(1);
    const [row] = rows;
    expect(row).toMatchObject({ action: 'auth.login.failed', outcome: 'FAILURE' });
    expect(row.error_code).toBe('UNAUTHENTICATED');
    expect(row.metadata.reason).toMatch(/^[a-z_]{1,40}$/);
    if (reason !== undefined) expect(row.metadata.reason).toMatch(reason);
    const text = JSON.stringify(row);
    for (const part of [token, ...token.split('.')].filter((p) => p.length >= 16)) {
      expect(text).not.toContain(part);
    }
    return row;
  }

  async function expectAccepted(token: string, headers: Record<string, string> = {}) {
    const r = await me(token, headers);
    expect(r.body.errors).toBeUndefined();
    return r.body.data!.me;
  }

  beforeAll(async () => {
    t = await startTestApp();
    tenant = await seedTenant(t);
    member = await seedMember(t, tenant, MemberRole.MEMBER);
    session = await login(member, tenant.slug);
    realHeader = decodeProtectedHeader(session.accessToken) as JWTHeaderParameters;
    realClaims = decodeJwt(session.accessToken);
    attackerKeys = await generateKeyPair('ES256', { extractable: true });
    attackerJwk = { ...(await exportJWK(attackerKeys.publicKey)), kid: 'attacker-1', alg: 'ES256' };
    attackerServer = await startJwksServer({ keys: [attackerJwk] });
  });
  afterAll(async () => {
    await attackerServer?.close();
    await t?.close();
  });

  describe('genuine tokens', () => {
    it('should authenticate as the member with authMethod JWT when the bearer is a fresh access token', async () => {
      expect(realHeader).toMatchObject({ alg: 'ES256', typ: expect.any(String) });
      expect(realHeader.kid).toEqual(expect.any(String));
      expect(realClaims).toMatchObject({ sub: member.id, tid: tenant.id, aud: expect.anything() });
      expect(typeof realClaims.exp).toBe('number');
      expect(realClaims.exp! - nowSec()).toBeLessThanOrEqual(15 * 60);

      const r = await me(session.accessToken);
      expect(r.body.errors).toBeUndefined();
      expect(r.body.data?.me).toEqual({
        role: 'MEMBER',
        actorType: 'USER',
        authMethod: 'JWT',
        tenant: { slug: tenant.slug },
        user: { email: member.email },
      });
    });

    it('should accept a token forged with the real signing key when every claim is valid (control for the cases below)', async () => {
      const token = await signReal(validClaims());
      expect((await expectAccepted(token)).user?.email).toBe(member.email);
    });

    it('should accept the token when exp passed less than 30 s ago (clock skew tolerance)', async () => {
      const now = nowSec();
      const token = await signReal(validClaims({ iat: now - 120, nbf: now - 120, exp: now - 10 }));
      expect((await expectAccepted(token)).authMethod).toBe('JWT');
    });

    it('should accept the token when nbf is less than 30 s in the future (clock skew tolerance)', async () => {
      const now = nowSec();
      const token = await signReal(validClaims({ iat: now, nbf: now + 10, exp: now + 600 }));
      expect((await expectAccepted(token)).authMethod).toBe('JWT');
    });

    it('should write no per-request event, and a summary without the token, when a bearer signs in', async () => {
      const summaries = t.app.get(AuthSuccessSummary);
      await summaries.flush();
      const requestId = rid();
      const r = await t.gql(
        ME_ROLE,
        {},
        {
          auth: bearer(session.accessToken),
          headers: { 'x-request-id': requestId },
        },
      );
      expect(r.body.errors).toBeUndefined();
      expect(await auditRows(t, { requestId })).toEqual([]);
      await summaries.flush();
      const rows = await t.ds.query<AuditRow[]>(
        `SELECT * FROM audit_event WHERE action = 'auth.succeeded.summary' AND auth_method = 'JWT'
          AND actor_id = $1 ORDER BY occurred_at DESC, seq DESC LIMIT 1`,
        [member.id],
      );
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ auth_method: 'JWT', metadata: { method: 'JWT', count: 1 } });
      expect(JSON.stringify(rows[0])).not.toContain(session.accessToken.split('.')[2]);
    });
  });

  describe('malformed tokens', () => {
    it('should refuse the request when the bearer token is empty', async () => {
      await expectRefused('');
    });

    it('should refuse the token when it has only 2 segments', async () => {
      const [h, p] = session.accessToken.split('.');
      await expectRefused(`${h}.${p}`);
    });

    it('should refuse the token when it has 4 segments', async () => {
      await expectRefused(`${session.accessToken}.${b64url('extra')}`);
    });

    it('should refuse the token when its segments are not base64url at all', async () => {
      const [, p, s] = session.accessToken.split('.');
      await expectRefused(`!!*~~.${p}.${s}`);
    });

    it('should refuse a genuine token when its signature is re-encoded as padded standard base64', async () => {
      const [h, p, s] = session.accessToken.split('.');
      const padded = Buffer.from(s, 'base64url').toString('base64');
      expect(padded).toMatch(/=$/); // 64-byte ES256 signature: always padded
      await expectRefused(`${h}.${p}.${padded}`);
    });
  });

  describe('algorithm confusion', () => {
    it.each(['none', 'None', 'NONE', 'nOnE'])(
      'should refuse the token when alg is "%s" with an empty signature',
      async (alg) => {
        await expectRefused(unsigned({ ...realHeader, alg }, validClaims()));
      },
    );

    it('should refuse the token when it is HS256-signed with the JWKS public key as PEM bytes', async () => {
      const jwks = await t.http().get('/.well-known/jwks.json').expect(200);
      const jwk = (jwks.body as { keys: JWK[] }).keys.find((k) => k.kid === realHeader.kid)!;
      expect(jwk).toBeDefined();
      const pem = createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' })
        .export({ type: 'spki', format: 'pem' })
        .toString();
      for (const secret of [pem, pem.trim()]) {
        const token = await new SignJWT(validClaims())
          .setProtectedHeader({ alg: 'HS256', kid: realHeader.kid, typ: realHeader.typ })
          .sign(new TextEncoder().encode(secret));
        await expectRefused(token);
      }
    });

    it('should refuse the token when it is HS256-signed with the JWKS public key as JSON bytes', async () => {
      const jwks = await t.http().get('/.well-known/jwks.json').expect(200);
      const jwk = (jwks.body as { keys: JWK[] }).keys.find((k) => k.kid === realHeader.kid)!;
      const token = await new SignJWT(validClaims())
        .setProtectedHeader({ alg: 'HS256', kid: realHeader.kid, typ: realHeader.typ })
        .sign(new TextEncoder().encode(JSON.stringify(jwk)));
      await expectRefused(token);
    });

    it.each(['ES384', 'ES512', 'RS256', 'PS256', 'EdDSA'])(
      'should refuse the token when it is signed with %s (outside the allow-list) under our kid',
      async (alg) => {
        const { privateKey } = await generateKeyPair(alg);
        const token = await new SignJWT(validClaims())
          .setProtectedHeader({ alg, kid: realHeader.kid, typ: realHeader.typ })
          .sign(privateKey);
        await expectRefused(token);
      },
    );
  });

  describe('keys', () => {
    it("should refuse the token when an attacker's ES256 key signs it under our kid", async () => {
      const token = await new SignJWT(validClaims())
        .setProtectedHeader({ alg: 'ES256', kid: realHeader.kid, typ: realHeader.typ })
        .sign(attackerKeys.privateKey);
      await expectRefused(token, /^(token_invalid|bad_signature|invalid_signature)$/);
    });

    it('should refuse the token when its kid is unknown even though the real key signed it', async () => {
      await expectRefused(
        await signReal(validClaims(), { kid: `rk-unknown-${randomUUID()}` }),
        'unknown_kid',
      );
    });

    it('should refuse the token when it has no kid', async () => {
      const { key } = await t.app.get(SigningKeysService).signingKey();
      const token = await new SignJWT(validClaims())
        .setProtectedHeader({ alg: 'ES256', typ: realHeader.typ })
        .sign(key);
      await expectRefused(token);
    });

    it.each([
      ['jku', 'an unknown kid', () => 'attacker-1'],
      ['jku', 'our kid', () => realHeader.kid!],
      ['x5u', 'an unknown kid', () => 'attacker-1'],
      ['x5u', 'our kid', () => realHeader.kid!],
    ])(
      "should refuse the token and never fetch the URL when a %s header with %s points at the attacker's key set",
      async (param, _label, kid) => {
        const before = attackerServer.hits();
        const token = await new SignJWT(validClaims())
          .setProtectedHeader({
            alg: 'ES256',
            kid: kid(),
            typ: realHeader.typ,
            [param]: attackerServer.jwksUri(`/${param}.json`),
          })
          .sign(attackerKeys.privateKey);
        await expectRefused(token);
        await sleep(100); // a fire-and-forget fetch would land by now
        expect(attackerServer.hits()).toBe(before);
        expect(attackerServer.hits()).toBe(0);
      },
    );

    it.each([
      ['an unknown kid', () => 'attacker-1'],
      ['our kid', () => realHeader.kid!],
      ['no kid', () => undefined],
    ])(
      "should refuse the token when it embeds the attacker's public key as jwk with %s",
      async (_label, kid) => {
        const { kid: _k, alg: _a, ...publicJwk } = attackerJwk;
        const token = await new SignJWT(validClaims())
          .setProtectedHeader({ alg: 'ES256', kid: kid(), typ: realHeader.typ, jwk: publicJwk })
          .sign(attackerKeys.privateKey);
        await expectRefused(token);
      },
    );
  });

  describe('claims (signed with the real key; only the named claim is wrong)', () => {
    it('should refuse the token when exp is 31 s in the past (beyond the 30 s skew)', async () => {
      const now = nowSec();
      const token = await signReal(validClaims({ iat: now - 600, nbf: now - 600, exp: now - 31 }));
      await expectRefused(token, 'token_expired');
    });

    it('should refuse the token when exp is an hour in the past', async () => {
      const now = nowSec();
      const token = await signReal(
        validClaims({ iat: now - 7200, nbf: now - 7200, exp: now - 3600 }),
      );
      await expectRefused(token, 'token_expired');
    });

    it('should refuse the token when nbf is more than 30 s in the future', async () => {
      const now = nowSec();
      await expectRefused(
        await signReal(validClaims({ nbf: now + 45, exp: now + 600 })),
        'token_not_yet_valid',
      );
    });

    it('should refuse the token when it has no exp', async () => {
      const { exp: _exp, ...claims } = validClaims();
      await expectRefused(await signReal(claims), 'missing_claims');
    });

    it('should refuse the token when exp is not a number', async () => {
      await expectRefused(await signReal(validClaims({ exp: 'never' as unknown as number })));
    });

    it('should refuse the token when iss is another issuer', async () => {
      await expectRefused(await signReal(validClaims({ iss: 'https://evil.example' })));
    });

    it('should refuse the token when iss is missing', async () => {
      const { iss: _iss, ...claims } = validClaims();
      await expectRefused(await signReal(claims));
    });

    it('should refuse the token when aud is another audience', async () => {
      await expectRefused(await signReal(validClaims({ aud: 'some-other-api' })));
    });

    it('should refuse the token when aud is missing', async () => {
      const { aud: _aud, ...claims } = validClaims();
      await expectRefused(await signReal(claims));
    });

    it('should refuse the token when typ is "JWT" instead of the access-token typ', async () => {
      await expectRefused(await signReal(validClaims(), { typ: 'JWT' }));
    });

    it('should refuse the token when typ is absent', async () => {
      const { kid, key } = await t.app.get(SigningKeysService).signingKey();
      const token = await new SignJWT(validClaims())
        .setProtectedHeader({ alg: 'ES256', kid })
        .sign(key);
      await expectRefused(token);
    });

    it('should refuse an ID token (typ JWT, OIDC claims) used as an API token', async () => {
      const now = nowSec();
      const idToken = await signReal(
        {
          iss: realClaims.iss,
          aud: 'roomkey-web-client',
          sub: member.id,
          tid: tenant.id,
          sid: realClaims.sid,
          email: member.email,
          email_verified: true,
          nonce: randomUUID(),
          auth_time: now,
          iat: now,
          exp: now + 600,
        },
        { typ: 'JWT' },
      );
      await expectRefused(idToken);
    });

    it('should refuse the token when sub is missing', async () => {
      const { sub: _sub, ...claims } = validClaims();
      await expectRefused(await signReal(claims), 'missing_claims');
    });

    it('should refuse the token when tid names a tenant the user does not belong to', async () => {
      const other = await seedTenant(t);
      await expectRefused(await signReal(validClaims({ tid: other.id })), 'not_a_member');
    });
  });

  describe('other Roomkey credentials used as a bearer', () => {
    it('should refuse a refresh token used as the bearer', async () => {
      const fresh = await login(member, tenant.slug);
      await expectRefused(fresh.refreshToken);
    });

    it('should refuse a one-time login code used as the bearer', async () => {
      const code = await t.ds.transaction((m) =>
        t.app.get(TokenService).createLoginCode(m, tenant.id, member.id, AuthMethod.OIDC),
      );
      await expectRefused(code);
      // The refusal did not consume or otherwise use the code.
      const r = await t.gql<{ exchangeLoginCode: AuthPayload }>(
        'mutation($c: String!) { exchangeLoginCode(code: $c) { accessToken } }',
        { c: code },
      );
      expect(r.body.errors).toBeUndefined();
    });
  });

  describe('revocation', () => {
    it("should refuse a removed member's token once the session cache has expired", async () => {
      const gone = await seedMember(t, tenant, MemberRole.MEMBER);
      const tokens = await login(gone, tenant.slug);
      await expectAccepted(tokens.accessToken);

      const removed = await t.gql(REMOVE, { id: gone.memberId }, { auth: tenant.owner.auth });
      expect(removed.body.errors).toBeUndefined();
      t.app.get(SessionCheckService).invalidate(); // the ≤ 30 s cache has run out

      await expectRefused(tokens.accessToken, 'not_a_member');
    });

    it("should refuse a session's access token after logout once the session cache has expired", async () => {
      const user = await seedMember(t, tenant, MemberRole.MEMBER);
      const tokens = await login(user, tenant.slug);
      const other = await login(user, tenant.slug); // another session of the same user
      await expectAccepted(tokens.accessToken);

      const out = await t.gql<{ logout: boolean }>(
        LOGOUT,
        {},
        { auth: bearer(tokens.accessToken) },
      );
      expect(out.body.errors).toBeUndefined();
      expect(out.body.data?.logout).toBe(true);
      t.app.get(SessionCheckService).invalidate();

      await expectRefused(tokens.accessToken, 'session_revoked');
      // Only that session ended.
      expect((await expectAccepted(other.accessToken)).user?.email).toBe(user.email);
    });
  });

  describe('tenant isolation', () => {
    let tenantB: SeededTenant;
    let memberB: SeededUser;

    beforeAll(async () => {
      tenantB = await seedTenant(t);
      memberB = await seedMember(t, tenantB, MemberRole.ADMIN);
    });

    it("should act in tenant A when A's token is sent with X-Roomkey-Tenant naming tenant B", async () => {
      // The user belongs to both tenants, so only the token may decide.
      const both = await seedMember(t, tenant, MemberRole.MEMBER);
      await t.app
        .get(MembersService)
        .add(RequestContext.system(tenantB), { email: both.email, role: MemberRole.ADMIN });
      const tokens = await login(both, tenant.slug);

      const r = await me(tokens.accessToken, { 'x-roomkey-tenant': tenantB.slug });
      expect(r.body.errors).toBeUndefined();
      expect(r.body.data?.me).toMatchObject({ tenant: { slug: tenant.slug }, role: 'MEMBER' });
    });

    it("should list only tenant A's members when A's owner token asks with tenant B's slug", async () => {
      const owner = await login(tenant.owner, tenant.slug);
      const r = await t.gql<{ members: { nodes: Array<{ user: { email: string } }> } }>(
        MEMBERS,
        {},
        { auth: bearer(owner.accessToken), headers: { 'x-roomkey-tenant': tenantB.slug } },
      );
      expect(r.body.errors).toBeUndefined();
      const emails = r.body.data!.members.nodes.map((n) => n.user.email);
      expect(emails).toContain(tenant.owner.email);
      expect(emails).not.toContain(tenantB.owner.email);
      expect(emails).not.toContain(memberB.email);
    });

    it("should answer NOT_FOUND and change nothing when A's owner token removes a member of tenant B", async () => {
      const owner = await login(tenant.owner, tenant.slug);
      const r = await t.gql(
        REMOVE,
        { id: memberB.memberId },
        { auth: bearer(owner.accessToken), headers: { 'x-roomkey-tenant': tenantB.slug } },
      );
      expect(errorCode(r)).toBe('NOT_FOUND');
      const [row] = await t.ds.query<Array<{ n: number }>>(
        'SELECT count(*)::int AS n FROM membership WHERE id = $1',
        [memberB.memberId],
      );
      expect(row.n).toBe(1);
    });

    it('should refuse a token whose tid is tenant B when signed for a user of tenant A only', async () => {
      await expectRefused(await signReal(validClaims({ tid: tenantB.id })), 'not_a_member');
    });
  });

  describe('signing key rotation', () => {
    it('should keep old tokens valid through the overlap and refuse them once the old key has left the JWKS', async () => {
      const keys = t.app.get(SigningKeysService);
      const old = await login(member, tenant.slug);
      const oldKid = decodeProtectedHeader(old.accessToken).kid!;

      const newKid = await keys.rotate();
      expect(newKid).not.toBe(oldKid);

      // During the overlap the old token still works, new tokens carry the new kid, JWKS lists both.
      await expectAccepted(old.accessToken);
      const fresh = await login(member, tenant.slug);
      expect(decodeProtectedHeader(fresh.accessToken).kid).toBe(newKid);
      await expectAccepted(fresh.accessToken);
      const during = await t.http().get('/.well-known/jwks.json').expect(200);
      const duringKids = (during.body as { keys: JWK[] }).keys.map((k) => k.kid);
      expect(duringKids).toEqual(expect.arrayContaining([oldKid, newKid]));
      for (const k of (during.body as { keys: JWK[] }).keys) expect(k).not.toHaveProperty('d');

      // The overlap ends: the old key was retired longer ago than a token lives.
      await t.ds.query(
        "UPDATE signing_key SET retired_at = now() - interval '1 hour' WHERE kid = $1",
        [oldKid],
      );
      await sleep(11_000); // past the 10 s reload cooldown, in real time

      const after = await t.http().get('/.well-known/jwks.json').expect(200);
      const afterKids = (after.body as { keys: JWK[] }).keys.map((k) => k.kid);
      expect(afterKids).toContain(newKid);
      expect(afterKids).not.toContain(oldKid);

      await expectRefused(old.accessToken, 'unknown_kid');
      await expectAccepted(fresh.accessToken);
    }, 40_000);
  });
});
