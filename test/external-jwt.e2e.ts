import { randomBytes, randomUUID } from 'node:crypto';
import {
  type CryptoKey,
  type JWK,
  type JWTHeaderParameters,
  type JWTPayload,
  SignJWT,
  exportJWK,
  generateKeyPair,
  importJWK,
} from 'jose';
import { MemberRole } from '../src/common/auth/roles';
import { seedMember, seedTenant, type SeededTenant, type SeededUser } from './factories/tenancy';
import { type AuditRow, auditRows } from './helpers/audit';
import {
  ADMIN_EMAIL,
  errorCode,
  type GqlResult,
  startTestApp,
  type TestApp,
} from './helpers/test-app';
import { type JwksServer, startJwksServer } from './support/jwks-server';

/**
 * docs/decisions.md#issue-4 item 2 and docs/security.md S1 and S6 for trusted external JWT issuers: configuration rights,
 * just-in-time provisioning keyed on (issuer, sub), every refusal of row 1, bounded JWKS fetching,
 * and tenant isolation. The IdP is a JWKS server on 127.0.0.1 whose keys are generated here.
 */

type MeData = {
  me: {
    role: string;
    actorType: string;
    authMethod: string;
    tenant: { slug: string };
    user: { id: string; email: string } | null;
  };
};
interface IssuerConfig {
  issuer: string;
  jwksUri: string;
  audience: string;
  algorithms?: string[];
  roleMapping?: Array<{ value: string; role: string }>;
  emailClaim?: string;
  rolesClaim?: string;
}
interface KeyPair {
  privateKey: CryptoKey;
  /** The private key as a JWK, to sign with the same RSA key under another algorithm. */
  privateJwk: JWK;
  publicJwk: JWK;
  kid: string;
  alg: string;
}

const CONFIGURE = `mutation($input: ConfigureJwtIssuerInput!) {
  configureJwtIssuer(input: $input) { id issuer jwksUri audience algorithms enabled roleMapping { value role } } }`;
const ME = '{ me { role actorType authMethod tenant { slug } user { id email } } }';
const MEMBERS = '{ members { nodes { id role user { email } } } }';
const REMOVE = 'mutation($id: ID!) { removeMember(memberId: $id) { id } }';

const uniq = (): string => randomBytes(4).toString('hex');
const nowSec = (): number => Math.floor(Date.now() / 1000);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const b64url = (v: string): string => Buffer.from(v).toString('base64url');
let requestCounter = 0;
const rid = (): string => `extjwt-${++requestCounter}-${uniq()}`;

async function makeKey(alg = 'RS256', kid = `idp-${uniq()}`): Promise<KeyPair> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return {
    privateKey,
    privateJwk: await exportJWK(privateKey),
    kid,
    alg,
    publicJwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' },
  };
}

describe('trusted external JWT issuers', () => {
  let t: TestApp;
  let jwks: JwksServer;
  /** The IdP's signing key, published by `jwks`. */
  let idpKey: KeyPair;
  let attacker: KeyPair;
  /** Never configured anywhere: jku / x5u headers point here and it must see zero requests. */
  let attackerServer: JwksServer;

  let tenantA: SeededTenant;
  let tenantB: SeededTenant;
  let adminA: SeededUser;
  let memberA: SeededUser;
  let memberB: SeededUser;

  const ISSUER_A = `https://idp-a-${uniq()}.example`;
  const AUD_A = `roomkey-a-${uniq()}`;
  const PATH_A = '/a/jwks.json';

  const bearer = (token: string): string => `Bearer ${token}`;

  const configure = (auth: string, input: IssuerConfig) =>
    t.gql<{ configureJwtIssuer: IssuerConfig & { id: string } }>(CONFIGURE, { input }, { auth });

  const claimsFor = (overrides: JWTPayload = {}): JWTPayload => {
    const now = nowSec();
    return {
      iss: ISSUER_A,
      aud: AUD_A,
      sub: `sub-${uniq()}`,
      email: `ext-${uniq()}@idp-a.test`,
      name: 'External Person',
      iat: now,
      nbf: now,
      exp: now + 300,
      jti: randomUUID(),
      ...overrides,
    };
  };

  /** Signs with `key` (RS256 unless the header names another algorithm the same key can do). */
  const sign = async (
    claims: JWTPayload,
    key: KeyPair = idpKey,
    header: Partial<JWTHeaderParameters> = {},
  ): Promise<string> => {
    const alg = header.alg ?? key.alg;
    const signingKey = alg === key.alg ? key.privateKey : await importJWK(key.privateJwk, alg);
    return new SignJWT(claims)
      .setProtectedHeader({ kid: key.kid, typ: 'JWT', ...header, alg })
      .sign(signingKey);
  };

  const me = (token: string, headers: Record<string, string> = {}): Promise<GqlResult<MeData>> =>
    t.gql<MeData>(ME, {}, { auth: bearer(token), headers });

  async function expectAccepted(token: string, headers: Record<string, string> = {}) {
    const r = await me(token, headers);
    expect(r.body.errors).toBeUndefined();
    return r.body.data!.me;
  }

  /** UNAUTHENTICATED, and exactly one auth.login.failed event with a reason code and no token. */
  async function expectRefused(token: string, reason?: string | RegExp): Promise<AuditRow> {
    const requestId = rid();
    const r = await t.gql(
      '{ me { role } }',
      {},
      { auth: bearer(token), headers: { 'x-request-id': requestId } },
    );
    expect(errorCode(r)).toBe('UNAUTHENTICATED');
    expect(r.body.data ?? null).toBeNull();
    const rows = await auditRows(t, { requestId });
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ action: 'auth.login.failed', outcome: 'FAILURE' });
    expect(rows[0].metadata.reason).toMatch(/^[a-z_]{1,40}$/);
    if (reason !== undefined) expect(rows[0].metadata.reason).toMatch(reason);
    const text = JSON.stringify(rows[0]);
    for (const part of [token, ...token.split('.')].filter((p) => p.length >= 16)) {
      expect(text).not.toContain(part);
    }
    return rows[0];
  }

  const membershipOf = async (tenantId: string, email: string) => {
    const rows = await t.ds.query<Array<{ role: string; user_id: string }>>(
      `SELECT m.role, m.user_id FROM membership m JOIN app_user u ON u.id = m.user_id
        WHERE m.tenant_id = $1 AND lower(u.email) = lower($2)`,
      [tenantId, email],
    );
    return rows[0] ?? null;
  };

  beforeAll(async () => {
    idpKey = await makeKey('RS256', 'idp-a-1');
    attacker = await makeKey('RS256', 'attacker-1');
    jwks = await startJwksServer({ keys: [idpKey.publicJwk] });
    attackerServer = await startJwksServer({ keys: [attacker.publicJwk] });
    t = await startTestApp({
      ROOMKEY_ALLOW_INSECURE_IDP: 'true',
      ROOMKEY_JWKS_COOLDOWN_MS: '60000',
      ROOMKEY_IDP_TIMEOUT_MS: '500',
    });
    tenantA = await seedTenant(t);
    tenantB = await seedTenant(t);
    adminA = await seedMember(t, tenantA, MemberRole.ADMIN);
    memberA = await seedMember(t, tenantA, MemberRole.MEMBER);
    memberB = await seedMember(t, tenantB, MemberRole.MEMBER);
    const r = await configure(tenantA.owner.auth, {
      issuer: ISSUER_A,
      jwksUri: jwks.jwksUri(PATH_A),
      audience: AUD_A,
      algorithms: ['RS256'],
      roleMapping: [{ value: 'rk-admins', role: 'ADMIN' }],
    });
    expect(r.body.errors).toBeUndefined();
  });
  afterAll(async () => {
    await t?.close();
    await jwks?.close();
    await attackerServer?.close();
  });

  describe('configureJwtIssuer', () => {
    it('should store the issuer and audit jwt_issuer.configured when an OWNER configures it', async () => {
      const issuer = `https://owner-${uniq()}.example`;
      const requestId = rid();
      const r = await t.gql<{ configureJwtIssuer: IssuerConfig }>(
        CONFIGURE,
        { input: { issuer, jwksUri: jwks.jwksUri('/owner.json'), audience: 'aud-owner' } },
        { auth: tenantA.owner.auth, headers: { 'x-request-id': requestId } },
      );
      expect(r.body.errors).toBeUndefined();
      expect(r.body.data?.configureJwtIssuer).toMatchObject({
        issuer,
        audience: 'aud-owner',
        algorithms: ['RS256'],
        enabled: true,
      });
      const rows = await auditRows(t, { requestId, action: 'jwt_issuer.configured' });
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ tenant_id: tenantA.id, outcome: 'SUCCESS' });
    });

    it('should store the issuer when an ADMIN configures it', async () => {
      const issuer = `https://admin-${uniq()}.example`;
      const r = await configure(adminA.auth, {
        issuer,
        jwksUri: jwks.jwksUri('/admin.json'),
        audience: 'aud-admin',
      });
      expect(r.body.errors).toBeUndefined();
      expect(r.body.data?.configureJwtIssuer.issuer).toBe(issuer);
    });

    it('should answer FORBIDDEN and store nothing when a MEMBER configures an issuer', async () => {
      const issuer = `https://member-${uniq()}.example`;
      const r = await configure(memberA.auth, {
        issuer,
        jwksUri: jwks.jwksUri('/member.json'),
        audience: 'aud-member',
      });
      expect(errorCode(r)).toBe('FORBIDDEN');
      const [{ n }] = await t.ds.query<Array<{ n: number }>>(
        'SELECT count(*)::int AS n FROM jwt_issuer WHERE issuer = $1',
        [issuer],
      );
      expect(n).toBe(0);
    });

    it('should answer FORBIDDEN when an ADMIN maps an IdP role to OWNER', async () => {
      const r = await configure(adminA.auth, {
        issuer: `https://admin-owner-${uniq()}.example`,
        jwksUri: jwks.jwksUri('/x.json'),
        audience: 'aud-x',
        roleMapping: [{ value: 'rk-owners', role: 'OWNER' }],
      });
      expect(errorCode(r)).toBe('FORBIDDEN');
    });

    it('should answer CONFLICT when a second tenant configures the same issuer and audience', async () => {
      const r = await configure(tenantB.owner.auth, {
        issuer: ISSUER_A,
        jwksUri: jwks.jwksUri(PATH_A),
        audience: AUD_A,
      });
      expect(errorCode(r)).toBe('CONFLICT');
      const [{ n }] = await t.ds.query<Array<{ n: number }>>(
        'SELECT count(*)::int AS n FROM jwt_issuer WHERE issuer = $1 AND tenant_id = $2',
        [ISSUER_A, tenantB.id],
      );
      expect(n).toBe(0);
    });

    it('should answer BAD_USER_INPUT when the JWKS URI carries credentials', async () => {
      const u = new URL(jwks.jwksUri('/creds.json'));
      u.username = 'user';
      u.password = 'pw';
      const r = await configure(tenantA.owner.auth, {
        issuer: `https://creds-${uniq()}.example`,
        jwksUri: u.toString(),
        audience: 'aud-creds',
      });
      expect(errorCode(r)).toBe('BAD_USER_INPUT');
    });

    it('should answer BAD_USER_INPUT for an http JWKS URI when ROOMKEY_ALLOW_INSECURE_IDP is not set', async () => {
      const strict = await startTestApp();
      try {
        const owner = await seedTenant(strict);
        const input = { issuer: `https://strict-${uniq()}.example`, audience: 'aud-strict' };
        const http = await strict.gql(
          CONFIGURE,
          { input: { ...input, jwksUri: jwks.jwksUri('/strict.json') } },
          { auth: owner.owner.auth },
        );
        expect(errorCode(http)).toBe('BAD_USER_INPUT');
        expect(http.body.errors?.[0]?.extensions?.field).toBe('jwksUri');
        // The same input over https is fine: only the scheme was refused.
        const https = await strict.gql(
          CONFIGURE,
          { input: { ...input, jwksUri: 'https://idp.example/jwks.json' } },
          { auth: owner.owner.auth },
        );
        expect(https.body.errors).toBeUndefined();
      } finally {
        await strict.close();
      }
    });
  });

  describe('accepted tokens', () => {
    it('should sign in to the issuer tenant as a just-in-time provisioned MEMBER when the token is valid', async () => {
      const claims = claimsFor();
      const r = await expectAccepted(await sign(claims));
      expect(r).toMatchObject({
        authMethod: 'EXTERNAL_JWT',
        actorType: 'USER',
        role: 'MEMBER',
        tenant: { slug: tenantA.slug },
        user: { email: claims.email },
      });
      expect(await membershipOf(tenantA.id, claims.email as string)).toMatchObject({
        role: 'MEMBER',
      });
      expect(await membershipOf(tenantB.id, claims.email as string)).toBeNull();
      const [link] = await t.ds.query<Array<{ tenant_id: string; user_id: string }>>(
        'SELECT tenant_id, user_id FROM external_identity WHERE issuer = $1 AND subject = $2',
        [ISSUER_A, claims.sub],
      );
      expect(link).toEqual({ tenant_id: tenantA.id, user_id: r.user!.id });
    });

    it('should grant ADMIN when the roles claim carries a value mapped to ADMIN', async () => {
      const claims = claimsFor({ roles: ['rk-admins', 'something-else'] });
      const r = await expectAccepted(await sign(claims));
      expect(r.role).toBe('ADMIN');
      expect(await membershipOf(tenantA.id, claims.email as string)).toMatchObject({
        role: 'ADMIN',
      });
    });

    it('should grant MEMBER when the roles claim carries only unmapped values', async () => {
      const r = await expectAccepted(await sign(claimsFor({ roles: ['rk-owners', 'admins'] })));
      expect(r.role).toBe('MEMBER');
    });

    it('should map to the same user when a second token has the same sub but a different email', async () => {
      const sub = `sub-${uniq()}`;
      const first = await expectAccepted(
        await sign(claimsFor({ sub, email: `a-${uniq()}@x.test` })),
      );
      const newEmail = `b-${uniq()}@x.test`;
      const second = await expectAccepted(await sign(claimsFor({ sub, email: newEmail })));
      expect(second.user?.id).toBe(first.user?.id);
      expect(second.user?.email).toBe(first.user?.email);
      const [{ n }] = await t.ds.query<Array<{ n: number }>>(
        'SELECT count(*)::int AS n FROM app_user WHERE lower(email) = lower($1)',
        [newEmail],
      );
      expect(n).toBe(0);
    });

    it('should link to the existing user when a token with a new sub carries that user email', async () => {
      const sub = `sub-${uniq()}`;
      const r = await expectAccepted(await sign(claimsFor({ sub, email: adminA.email })));
      expect(r.user).toEqual({ id: adminA.id, email: adminA.email });
      expect(r.role).toBe('ADMIN'); // the existing membership is kept, not re-provisioned
      const [link] = await t.ds.query<Array<{ user_id: string }>>(
        'SELECT user_id FROM external_identity WHERE tenant_id = $1 AND issuer = $2 AND subject = $3',
        [tenantA.id, ISSUER_A, sub],
      );
      expect(link.user_id).toBe(adminA.id);
    });

    it("should refuse, and link nothing, when a new sub carries the email of another tenant's member", async () => {
      const sub = `sub-${uniq()}`;
      await expectRefused(await sign(claimsFor({ sub, email: memberB.email })));
      expect(await membershipOf(tenantA.id, memberB.email)).toBeNull();
      const [{ n }] = await t.ds.query<Array<{ n: number }>>(
        'SELECT count(*)::int AS n FROM external_identity WHERE issuer = $1 AND subject = $2',
        [ISSUER_A, sub],
      );
      expect(n).toBe(0);
    });

    it('should refuse, and link nothing, when a new sub carries the platform administrator email', async () => {
      const sub = `sub-${uniq()}`;
      await expectRefused(await sign(claimsFor({ sub, email: ADMIN_EMAIL, roles: ['rk-admins'] })));
      expect(await membershipOf(tenantA.id, ADMIN_EMAIL)).toBeNull();
    });

    it('should fetch the JWKS once and serve later tokens from the cache when the keys are known', async () => {
      await expectAccepted(await sign(claimsFor()));
      const before = jwks.hits(PATH_A);
      expect(before).toBeGreaterThanOrEqual(1);
      for (let i = 0; i < 5; i++) await expectAccepted(await sign(claimsFor()));
      expect(jwks.hits(PATH_A)).toBe(before);
    });
  });

  describe('refused tokens', () => {
    it('should refuse the token when its audience is not the configured one', async () => {
      await expectRefused(await sign(claimsFor({ aud: 'someone-else' })), 'wrong_audience');
    });

    it('should refuse the token when its issuer is not configured by any tenant', async () => {
      await expectRefused(
        await sign(claimsFor({ iss: `https://unknown-${uniq()}.example` })),
        'unknown_issuer',
      );
    });

    it('should refuse the token when it has no iss', async () => {
      const { iss: _iss, ...claims } = claimsFor();
      await expectRefused(await sign(claims));
    });

    it.each(['PS256', 'RS512'])(
      'should refuse the token when it is signed with %s, outside the configured algorithms',
      async (alg) => {
        await expectRefused(await sign(claimsFor(), idpKey, { alg }), 'alg_not_allowed');
      },
    );

    it('should refuse the token when it is HS256-signed with the published JWK as the secret', async () => {
      const token = await new SignJWT(claimsFor())
        .setProtectedHeader({ alg: 'HS256', kid: idpKey.kid, typ: 'JWT' })
        .sign(new TextEncoder().encode(JSON.stringify(idpKey.publicJwk)));
      await expectRefused(token, 'alg_not_allowed');
    });

    it.each(['none', 'None', 'NONE'])(
      'should refuse the token when alg is "%s" with an empty signature',
      async (alg) => {
        const header = b64url(JSON.stringify({ alg, kid: idpKey.kid, typ: 'JWT' }));
        await expectRefused(`${header}.${b64url(JSON.stringify(claimsFor()))}.`);
      },
    );

    it('should refuse the token when exp is more than 30 s in the past', async () => {
      const now = nowSec();
      await expectRefused(
        await sign(claimsFor({ iat: now - 600, nbf: now - 600, exp: now - 31 })),
        'token_expired',
      );
    });

    it('should refuse the token when nbf is more than 30 s in the future', async () => {
      await expectRefused(await sign(claimsFor({ nbf: nowSec() + 45 })), 'token_not_yet_valid');
    });

    it('should refuse the token when it has no exp', async () => {
      const { exp: _exp, ...claims } = claimsFor();
      await expectRefused(await sign(claims));
    });

    it('should refuse the token when it has no sub', async () => {
      const { sub: _sub, ...claims } = claimsFor();
      await expectRefused(await sign(claims));
    });

    it('should refuse the token and create no user when a new sub comes without an email', async () => {
      const { email: _email, ...claims } = claimsFor();
      await expectRefused(await sign(claims));
      const [{ n }] = await t.ds.query<Array<{ n: number }>>(
        'SELECT count(*)::int AS n FROM external_identity WHERE subject = $1',
        [claims.sub],
      );
      expect(n).toBe(0);
    });

    it("should refuse the token when an attacker's key signs it under the IdP's kid", async () => {
      await expectRefused(await sign(claimsFor(), attacker, { kid: idpKey.kid }), 'bad_signature');
    });

    it.each([
      ['the IdP kid', () => idpKey.kid],
      ['its own kid', () => attacker.kid],
      ['no kid', () => undefined],
    ])(
      "should refuse the token when it embeds the attacker's key as jwk with %s",
      async (_label, kid) => {
        const { kid: _k, alg: _a, use: _u, ...publicJwk } = attacker.publicJwk;
        const token = await sign(claimsFor(), attacker, { kid: kid(), jwk: publicJwk });
        await expectRefused(token);
      },
    );

    it.each([
      ['jku', 'its own kid', () => attacker.kid],
      ['jku', 'the IdP kid', () => idpKey.kid],
      ['x5u', 'its own kid', () => attacker.kid],
      ['x5u', 'the IdP kid', () => idpKey.kid],
    ])(
      "should refuse the token and never fetch the URL when a %s header with %s points at the attacker's server",
      async (param, _label, kid) => {
        const token = await sign(claimsFor(), attacker, {
          kid: kid(),
          [param]: attackerServer.jwksUri(`/${param}.json`),
        });
        await expectRefused(token);
        await sleep(100); // a fire-and-forget fetch would land by now
        expect(attackerServer.hits()).toBe(0);
      },
    );

    it('should refuse the token when the linked member was removed from the tenant', async () => {
      const claims = claimsFor();
      const first = await expectAccepted(await sign(claims));
      const [row] = await t.ds.query<Array<{ id: string }>>(
        'SELECT id FROM membership WHERE tenant_id = $1 AND user_id = $2',
        [tenantA.id, first.user!.id],
      );
      const removed = await t.gql(REMOVE, { id: row.id }, { auth: tenantA.owner.auth });
      expect(removed.body.errors).toBeUndefined();
      await expectRefused(await sign({ ...claims, jti: randomUUID() }));
      expect(await membershipOf(tenantA.id, claims.email as string)).toBeNull();
    });
  });

  describe('JWKS fetching', () => {
    it('should refetch the JWKS at most once per cooldown when 20 tokens carry random unknown kids', async () => {
      const server = await startJwksServer({ keys: [idpKey.publicJwk] });
      try {
        const issuer = `https://cooldown-${uniq()}.example`;
        const r = await configure(tenantA.owner.auth, {
          issuer,
          jwksUri: server.jwksUri('/cooldown.json'),
          audience: 'aud-cooldown',
        });
        expect(r.body.errors).toBeUndefined();
        const claims = (): JWTPayload => claimsFor({ iss: issuer, aud: 'aud-cooldown' });

        await expectAccepted(await sign(claims())); // first load
        const afterFirstLoad = server.hits();
        expect(afterFirstLoad).toBe(1);

        for (let i = 0; i < 20; i++) {
          await expectRefused(
            await sign(claims(), idpKey, { kid: `unknown-${randomUUID()}` }),
            'unknown_kid',
          );
        }
        expect(server.hits() - afterFirstLoad).toBeLessThanOrEqual(1);
        // The known key still works from the cache.
        await expectAccepted(await sign(claims()));
        expect(server.hits() - afterFirstLoad).toBeLessThanOrEqual(1);
      } finally {
        await server.close();
      }
    });

    it('should answer UNAUTHENTICATED when the JWKS server hangs longer than the IdP timeout', async () => {
      const server = await startJwksServer({ keys: [idpKey.publicJwk], latencyMs: 5_000 });
      try {
        const issuer = `https://slow-${uniq()}.example`;
        const r = await configure(tenantA.owner.auth, {
          issuer,
          jwksUri: server.jwksUri('/slow.json'),
          audience: 'aud-slow',
        });
        expect(r.body.errors).toBeUndefined();
        await expectRefused(
          await sign(claimsFor({ iss: issuer, aud: 'aud-slow' })),
          'jwks_timeout',
        );
        expect(server.hits()).toBeGreaterThanOrEqual(1);
      } finally {
        await server.close();
      }
    });
  });

  describe('tenant isolation', () => {
    it("should act in the issuer's tenant when the token is sent with X-Roomkey-Tenant naming another tenant", async () => {
      const r = await expectAccepted(await sign(claimsFor()), { 'x-roomkey-tenant': tenantB.slug });
      expect(r.tenant.slug).toBe(tenantA.slug);
    });

    it("should list only tenant A's members and not touch tenant B's when A's external admin token is used", async () => {
      const token = await sign(claimsFor({ roles: ['rk-admins'] }));
      const list = await t.gql<{ members: { nodes: Array<{ user: { email: string } }> } }>(
        MEMBERS,
        {},
        { auth: bearer(token), headers: { 'x-roomkey-tenant': tenantB.slug } },
      );
      expect(list.body.errors).toBeUndefined();
      const emails = list.body.data!.members.nodes.map((n) => n.user.email);
      expect(emails).toContain(tenantA.owner.email);
      expect(emails).not.toContain(tenantB.owner.email);
      expect(emails).not.toContain(memberB.email);

      const removed = await t.gql(
        REMOVE,
        { id: memberB.memberId },
        { auth: bearer(token), headers: { 'x-roomkey-tenant': tenantB.slug } },
      );
      expect(errorCode(removed)).toBe('NOT_FOUND');
      expect(await membershipOf(tenantB.id, memberB.email)).not.toBeNull();
    });

    it("should keep each tenant's users apart when two tenants trust the same issuer with different audiences", async () => {
      const audB = `roomkey-b-${uniq()}`;
      const configured = await configure(tenantB.owner.auth, {
        issuer: ISSUER_A,
        jwksUri: jwks.jwksUri('/b/jwks.json'),
        audience: audB,
        algorithms: ['RS256'],
      });
      expect(configured.body.errors).toBeUndefined();

      const sub = `shared-${uniq()}`;
      const email = `shared-a-${uniq()}@idp.test`;
      const inA = await expectAccepted(await sign(claimsFor({ sub, email, roles: ['rk-admins'] })));
      const inB = await expectAccepted(
        await sign(
          claimsFor({ sub, email: `shared-b-${uniq()}@idp.test`, aud: audB, roles: ['rk-admins'] }),
        ),
      );
      expect(inA.tenant.slug).toBe(tenantA.slug);
      expect(inB.tenant.slug).toBe(tenantB.slug);
      expect(inA.role).toBe('ADMIN'); // tenant A maps rk-admins
      expect(inB.role).toBe('MEMBER'); // tenant B does not
      expect(inB.user?.id).not.toBe(inA.user?.id); // one identity per (tenant, issuer, sub)
      // A token for A's audience never acts in B, whatever the header says.
      const again = await expectAccepted(await sign(claimsFor({ sub, email })), {
        'x-roomkey-tenant': tenantB.slug,
      });
      expect(again.tenant.slug).toBe(tenantA.slug);
    });

    /**
     * Tenants C and D both trust one issuer under different audiences; C configured it first (so
     * its row is tried first) with settings that cannot verify D's tokens. C must not be able to
     * lock D's users out, nor receive D's sign-in failures in its own audit log.
     */
    describe('when another tenant trusts the same issuer with different settings', () => {
      let tenantC: SeededTenant;
      let tenantD: SeededTenant;
      let otherJwks: JwksServer;
      const ISSUER_ALG = `https://shared-alg-${uniq()}.example`;
      const ISSUER_JWKS = `https://shared-jwks-${uniq()}.example`;

      beforeAll(async () => {
        otherJwks = await startJwksServer({ keys: [attacker.publicJwk] });
        tenantC = await seedTenant(t);
        tenantD = await seedTenant(t);
        for (const [auth, input] of [
          [
            tenantC.owner.auth,
            {
              issuer: ISSUER_ALG,
              jwksUri: jwks.jwksUri('/c/jwks.json'),
              audience: 'aud-c',
              algorithms: ['ES256'],
            },
          ],
          [
            tenantC.owner.auth,
            { issuer: ISSUER_JWKS, jwksUri: otherJwks.jwksUri('/c.json'), audience: 'aud-c' },
          ],
          [
            tenantD.owner.auth,
            {
              issuer: ISSUER_ALG,
              jwksUri: jwks.jwksUri('/d/jwks.json'),
              audience: 'aud-d',
              algorithms: ['RS256'],
            },
          ],
          [
            tenantD.owner.auth,
            { issuer: ISSUER_JWKS, jwksUri: jwks.jwksUri('/d2/jwks.json'), audience: 'aud-d' },
          ],
        ] as Array<[string, IssuerConfig]>) {
          expect((await configure(auth, input)).body.errors).toBeUndefined();
        }
      });
      afterAll(() => otherJwks?.close());

      it("should accept tenant D's token when tenant C allows only other algorithms", async () => {
        const r = await expectAccepted(await sign(claimsFor({ iss: ISSUER_ALG, aud: 'aud-d' })));
        expect(r.tenant.slug).toBe(tenantD.slug);
      });

      it("should accept tenant D's token when tenant C points the issuer at another JWKS", async () => {
        const r = await expectAccepted(await sign(claimsFor({ iss: ISSUER_JWKS, aud: 'aud-d' })));
        expect(r.tenant.slug).toBe(tenantD.slug);
      });

      it("should not write tenant D's failed sign-in into tenant C's audit log", async () => {
        const now = nowSec();
        const expired = await sign(
          claimsFor({
            iss: ISSUER_ALG,
            aud: 'aud-d',
            iat: now - 600,
            nbf: now - 600,
            exp: now - 60,
          }),
        );
        const row = await expectRefused(expired);
        expect(row.tenant_id).not.toBe(tenantC.id);
      });
    });
  });
});
