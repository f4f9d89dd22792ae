/**
 * docs/security.md S3 and S4, end to end: SAML sign-in through the real app (SP-initiated login,
 * POSTed response, one-time code, tokens) against the in-test IdP of test/support/saml-idp.ts, and
 * every forgery, replay and redirect trick refused with an audited reason and no login code.
 */
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { type Response } from 'supertest';
import { MemberRole } from '../src/common/auth/roles';
import { durableDatabase } from './helpers/database';
import { errorCode, startTestApp, type TestApp } from './helpers/test-app';
import { seedMember, seedTenant, type SeededTenant } from './factories/tenancy';
import {
  buildSamlResponse,
  encodePostBinding,
  generateSamlKeyPair,
  parseAuthnRequestFromRedirect,
  type SamlKeyPair,
  type SamlResponseOptions,
} from './support/saml-idp';

const PUBLIC_URL = 'http://127.0.0.1:3999';
const SSO_URL = 'https://idp.example.test/sso';
const IDP_ENTITY_ID = 'https://idp.example.test/metadata';
const REDIRECT = 'https://app.example.test/after-login';
const ADMIN_GROUP = 'rk-admins';
const FORGED = 'attacker@evil.example';
/** docs/security.md S4, verbatim. */
/**
 * A time-window failure: node-saml reports an expired bearer confirmation of a solicited response
 * as "No valid subject confirmation", which the service files under the generic response_invalid.
 */
const TIME_REASON = /^(assertion_expired|assertion_not_yet_valid|response_invalid)$/;
const EVIL_REDIRECTS = [
  '//evil.com',
  'https://evil.com',
  '/\\evil.com',
  'javascript:alert(1)',
  '%2F%2Fevil.com',
  'https://ok@evil.com',
];

const CONFIGURE = `mutation Configure($input: ConfigureSamlProviderInput!) {
  configureSamlProvider(input: $input) {
    id kind issuer redirectUris roleMapping { value role } loginUrl metadataUrl acsUrl
  }
}`;
const PROVIDERS = '{ identityProviders { id kind issuer redirectUris metadataUrl acsUrl } }';
const EXCHANGE = `mutation Exchange($code: String!) {
  exchangeLoginCode(code: $code) { accessToken refreshToken user { id email } tenant { slug } }
}`;
const ME = '{ me { role authMethod actorType tenant { id slug } user { id email displayName } } }';

type ProviderRow = {
  id: string;
  kind: string;
  issuer: string;
  redirectUris: string[];
  metadataUrl: string | null;
  acsUrl: string | null;
};
type ExchangeData = {
  exchangeLoginCode: {
    accessToken: string;
    refreshToken: string;
    user: { id: string; email: string };
    tenant: { slug: string };
  };
};
type MeData = {
  me: {
    role: string;
    authMethod: string;
    actorType: string;
    tenant: { id: string; slug: string };
    user: { id: string; email: string; displayName: string } | null;
  };
};
type AuditRow = {
  action: string;
  outcome: string;
  tenant_id: string;
  auth_method: string;
  metadata: Record<string, unknown> | string;
};

const uniq = (): string => randomBytes(4).toString('hex');
const entityIdOf = (slug: string): string => `${PUBLIC_URL}/auth/saml/${slug}/metadata`;
const acsOf = (slug: string): string => `${PUBLIC_URL}/auth/saml/${slug}/acs`;
const jwtClaims = (jwt: string): Record<string, unknown> =>
  JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString('utf8')) as Record<
    string,
    unknown
  >;
const sha256Hex = (s: string): string => createHash('sha256').update(s).digest('hex');

let idpKey: SamlKeyPair;
let attackerKey: SamlKeyPair;

beforeAll(() => {
  idpKey = generateSamlKeyPair('roomkey-test-idp');
  attackerKey = generateSamlKeyPair('roomkey-test-idp'); // same name, another key
});

// ------------------------------------------------------------------------------------------------
// Helpers, parameterised by the app so the multi-instance test can use them too.
// ------------------------------------------------------------------------------------------------

async function configureSaml(
  app: TestApp,
  auth: string,
  overrides: Record<string, unknown> = {},
): Promise<ProviderRow> {
  const r = await app.gql<{ configureSamlProvider: ProviderRow }>(
    CONFIGURE,
    {
      input: {
        idpEntityId: IDP_ENTITY_ID,
        ssoUrl: SSO_URL,
        idpCertificates: [idpKey.certPem],
        redirectUris: [REDIRECT],
        roleMapping: [{ value: ADMIN_GROUP, role: 'ADMIN' }],
        ...overrides,
      },
    },
    { auth },
  );
  expect(r.body.errors).toBeUndefined();
  return r.body.data!.configureSamlProvider;
}

/** GET /login and read back the AuthnRequest the browser would carry to the IdP. */
async function startLogin(
  app: TestApp,
  slug: string,
): Promise<ReturnType<typeof parseAuthnRequestFromRedirect>> {
  const res = await app.http().get(`/auth/saml/${slug}/login`).query({ redirect_uri: REDIRECT });
  expect(res.status).toBe(302);
  const location = res.headers.location;
  expect(location.startsWith(`${SSO_URL}?SAMLRequest=`)).toBe(true);
  return parseAuthnRequestFromRedirect(location);
}

function samlXml(slug: string, overrides: Partial<SamlResponseOptions> = {}): string {
  // One email per tenant: Roomkey refuses to link an SSO identity to an account of another tenant.
  return buildSamlResponse({
    idpEntityId: IDP_ENTITY_ID,
    spEntityId: entityIdOf(slug),
    acsUrl: acsOf(slug),
    nameId: 'alice@example.com',
    attributes: {
      email: `alice@${slug}.example.com`,
      displayName: 'Alice Example',
      roles: [ADMIN_GROUP, 'staff'],
    },
    key: idpKey,
    ...overrides,
  });
}

function postAcs(app: TestApp, slug: string, fields: Record<string, string>): Promise<Response> {
  return app.http().post(`/auth/saml/${slug}/acs`).type('form').send(fields);
}

function postXml(
  app: TestApp,
  slug: string,
  xml: string,
  relayState = REDIRECT,
): Promise<Response> {
  return postAcs(app, slug, { SAMLResponse: encodePostBinding(xml), RelayState: relayState });
}

/** The one-time code of a successful ACS post (303 to the allow-listed RelayState). */
function codeFrom(res: Response): string {
  expect(res.status).toBe(303);
  const location = new URL(res.headers.location);
  expect(`${location.origin}${location.pathname}`).toBe(REDIRECT);
  const code = location.searchParams.get('code');
  expect(code).toMatch(/^rkc_[A-Za-z0-9_-]{20,}$/);
  return code!;
}

async function exchange(app: TestApp, code: string): Promise<ExchangeData['exchangeLoginCode']> {
  const r = await app.gql<ExchangeData>(EXCHANGE, { code });
  expect(r.body.errors).toBeUndefined();
  return r.body.data!.exchangeLoginCode;
}

async function meWith(app: TestApp, accessToken: string): Promise<MeData['me']> {
  const r = await app.gql<MeData>(ME, {}, { auth: `Bearer ${accessToken}` });
  expect(r.body.errors).toBeUndefined();
  return r.body.data!.me;
}

/** A complete SP-initiated sign-in; returns what `me` says with the resulting access token. */
async function signIn(
  app: TestApp,
  slug: string,
  overrides: Partial<SamlResponseOptions> = {},
): Promise<MeData['me']> {
  const { id } = await startLogin(app, slug);
  const code = codeFrom(
    await postXml(app, slug, samlXml(slug, { inResponseTo: id, ...overrides })),
  );
  return meWith(app, (await exchange(app, code)).accessToken);
}

async function loginCodeCount(app: TestApp): Promise<number> {
  const [row] = await app.ds.query<Array<{ n: string | number }>>(
    'SELECT count(*) AS n FROM login_code',
  );
  return Number(row.n);
}

async function auditFor(app: TestApp, res: Response, action: string): Promise<AuditRow[]> {
  const requestId = res.headers['x-request-id'];
  expect(requestId).toBeTruthy();
  return app.ds.query<AuditRow[]>(
    'SELECT action, outcome, tenant_id, auth_method, metadata FROM audit_event WHERE request_id = $1 AND action = $2',
    [requestId, action],
  );
}

const metadataOf = (row: AuditRow): Record<string, unknown> =>
  typeof row.metadata === 'string'
    ? (JSON.parse(row.metadata) as Record<string, unknown>)
    : row.metadata;

/**
 * Sends one request and checks it was refused: a 4xx without any Location, no login code created,
 * and exactly one `auth.login.failed` event for the tenant with the expected reason code.
 */
async function expectRefused(
  app: TestApp,
  tenantId: string,
  send: () => Promise<Response>,
  reason: string | RegExp,
): Promise<Response> {
  const before = await loginCodeCount(app);
  const res = await send();
  expect(res.status).toBeGreaterThanOrEqual(400);
  expect(res.status).toBeLessThan(500);
  expect(res.headers.location).toBeUndefined();
  expect(res.text).not.toContain('rkc_');
  expect(await loginCodeCount(app)).toBe(before);
  const events = await auditFor(app, res, 'auth.login.failed');
  expect(events).toHaveLength(1);
  expect(events[0]).toMatchObject({ outcome: 'FAILURE', tenant_id: tenantId, auth_method: 'SAML' });
  const meta = metadataOf(events[0]);
  expect(meta.method).toBe('SAML');
  expect(meta.reason).toEqual(typeof reason === 'string' ? reason : expect.stringMatching(reason));
  return res;
}

async function usersWithEmail(app: TestApp, email: string): Promise<number> {
  const [row] = await app.ds.query<Array<{ n: string | number }>>(
    'SELECT count(*) AS n FROM app_user WHERE email = $1',
    [email],
  );
  return Number(row.n);
}

// ------------------------------------------------------------------------------------------------

describe('SAML sign-in (promises 3 and 4)', () => {
  let t: TestApp;
  let tenant: SeededTenant;
  let slug: string;

  /** Refused for `tenant`, on `t`. */
  const refused = (send: () => Promise<Response>, reason: string | RegExp): Promise<Response> =>
    expectRefused(t, tenant.id, send, reason);

  /** A fresh SP-initiated request id, and a response answering it with these overrides. */
  async function solicited(overrides: Partial<SamlResponseOptions> = {}): Promise<string> {
    const { id } = await startLogin(t, slug);
    return samlXml(slug, { inResponseTo: id, ...overrides });
  }

  beforeAll(async () => {
    // Hundreds of SSO round trips from one IP within a minute: above the per-IP budget of the
    // anonymous routes, which test/rate-limits covers.
    t = await startTestApp({
      ROOMKEY_PUBLIC_URL: PUBLIC_URL,
      ROOMKEY_RATE_LIMIT_PUBLIC_PER_IP: '100000',
    });
    tenant = await seedTenant(t);
    slug = tenant.slug;
    await configureSaml(t, tenant.owner.auth);
  });
  afterAll(() => t.close());

  describe('happy path', () => {
    it('should sign the user in with the mapped role when a signed response answers our request', async () => {
      const nameId = `emp-${uniq()}`;
      const email = `happy-${uniq()}@example.com`;

      const loginRes = await t
        .http()
        .get(`/auth/saml/${slug}/login`)
        .query({ redirect_uri: REDIRECT });
      expect(loginRes.status).toBe(302);
      expect(loginRes.headers['cache-control']).toBe('no-store');
      const request = parseAuthnRequestFromRedirect(loginRes.headers.location);
      expect(request).toMatchObject({
        destination: SSO_URL,
        issuer: entityIdOf(slug),
        acsUrl: acsOf(slug),
        relayState: REDIRECT,
      });

      const acsRes = await postXml(
        t,
        slug,
        samlXml(slug, {
          inResponseTo: request.id,
          nameId,
          attributes: { email, displayName: 'Happy Person', roles: [ADMIN_GROUP, 'staff'] },
        }),
        request.relayState,
      );
      const code = codeFrom(acsRes);
      const succeeded = await auditFor(t, acsRes, 'auth.login.succeeded');
      expect(succeeded).toHaveLength(1);
      expect(succeeded[0]).toMatchObject({ tenant_id: tenant.id, auth_method: 'SAML' });

      const tokens = await exchange(t, code);
      expect(tokens.user.email).toBe(email);
      expect(tokens.tenant.slug).toBe(slug);
      expect(jwtClaims(tokens.accessToken)).toMatchObject({ tid: tenant.id, amr: ['SAML'] });
      const me = await meWith(t, tokens.accessToken);
      expect(me).toMatchObject({
        role: 'ADMIN',
        actorType: 'USER',
        tenant: { id: tenant.id, slug },
        user: { email, displayName: 'Happy Person' },
      });
    });

    it('should grant MEMBER when the IdP sends no mapped role value', async () => {
      const me = await signIn(t, slug, {
        nameId: `emp-${uniq()}`,
        attributes: { email: `plain-${uniq()}@example.com`, roles: ['staff'] },
      });

      expect(me.role).toBe('MEMBER');
    });

    it('should refuse a second exchange when the login code was already used', async () => {
      const { id } = await startLogin(t, slug);
      const code = codeFrom(
        await postXml(t, slug, samlXml(slug, { inResponseTo: id, nameId: `emp-${uniq()}` })),
      );
      await exchange(t, code);

      const again = await t.gql<ExchangeData>(EXCHANGE, { code });

      expect(errorCode(again)).toBe('UNAUTHENTICATED');
      expect(again.body.data ?? null).toBeNull();
    });

    it('should serve SP metadata with our entity id and ACS URL when GET metadata is called', async () => {
      const res = await t.http().get(`/auth/saml/${slug}/metadata`);

      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toMatch(/^application\/samlmetadata\+xml/);
      expect(res.text).toMatch(/<(\w+:)?EntityDescriptor\b/);
      expect(res.text).toContain(`entityID="${entityIdOf(slug)}"`);
      expect(res.text).toMatch(
        new RegExp(
          `<(\\w+:)?AssertionConsumerService\\b[^>]*Location="${acsOf(slug).replace(/[.]/g, '\\.')}"`,
        ),
      );
      expect(res.text).toContain('urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST');
    });

    it('should answer 404 when metadata is requested for a tenant without SAML', async () => {
      const other = await seedTenant(t);

      const res = await t.http().get(`/auth/saml/${other.slug}/metadata`);

      expect(res.status).toBe(404);
      expect(res.text).not.toContain('EntityDescriptor');
    });
  });

  describe('forged responses', () => {
    it.each(['assertion-in-extensions', 'response-wrapper'] as const)(
      'should refuse the forged identity when the signature is wrapped (%s)',
      async (variant) => {
        const xml = await solicited({ wrapSignature: variant, forgedNameId: FORGED });
        expect(xml).toContain(FORGED);

        await refused(() => postXml(t, slug, xml), 'signature_invalid');
        expect(await usersWithEmail(t, FORGED)).toBe(0);
      },
    );

    it('should refuse the response when the assertion is not signed', async () => {
      const xml = await solicited({ signAssertion: false });
      expect(xml).not.toContain('Signature');

      await refused(() => postXml(t, slug, xml), 'signature_invalid');
    });

    it('should refuse the response when only the Response (not the assertion) is signed', async () => {
      const xml = await solicited({ signAssertion: false, signResponse: true });

      await refused(() => postXml(t, slug, xml), 'signature_invalid');
    });

    it('should refuse the response when it is signed by another key whose cert sits in KeyInfo', async () => {
      const xml = await solicited({
        key: attackerKey,
        embedCertInKeyInfo: true,
        signResponse: true,
      });
      expect(xml).toContain(attackerKey.certBase64);

      await refused(() => postXml(t, slug, xml), 'signature_invalid');
    });

    it('should refuse the response when it carries a second, unsigned assertion', async () => {
      const xml = await solicited({ extraUnsignedAssertion: true, forgedNameId: FORGED });
      expect(xml.match(/<saml:Assertion /g)).toHaveLength(2);

      await refused(() => postXml(t, slug, xml), 'signature_invalid');
      expect(await usersWithEmail(t, FORGED)).toBe(0);
    });

    it('should refuse the response when the Audience is another service provider', async () => {
      const xml = await solicited({ audience: 'https://other-sp.example.test/metadata' });

      await refused(() => postXml(t, slug, xml), 'wrong_audience');
    });

    it("should refuse the response when the Audience is another tenant's entity id", async () => {
      const xml = await solicited({ audience: entityIdOf('some-other-tenant') });

      await refused(() => postXml(t, slug, xml), 'wrong_audience');
    });

    it('should refuse the response when the Recipient is another ACS URL', async () => {
      const xml = await solicited({ recipient: 'https://evil.example.test/acs' });

      await refused(() => postXml(t, slug, xml), 'wrong_recipient');
    });

    it('should refuse the response when the Recipient is missing', async () => {
      const xml = await solicited({ recipient: null });
      expect(xml).not.toContain('Recipient=');

      await refused(() => postXml(t, slug, xml), 'recipient_missing');
    });

    it('should refuse the response when the Destination is another ACS URL', async () => {
      const xml = await solicited({ destination: 'https://evil.example.test/acs' });

      await refused(() => postXml(t, slug, xml), 'wrong_destination');
    });

    it('should refuse the response when the assertion Issuer is not the configured IdP', async () => {
      // Signed by the trusted key, but issued under another entity id.
      const xml = await solicited({ idpEntityId: 'https://other-idp.example.test/metadata' });

      await refused(() => postXml(t, slug, xml), 'wrong_issuer');
    });

    it('should refuse the response when NotOnOrAfter has passed (beyond the clock skew)', async () => {
      const now = Date.now();
      const xml = await solicited({
        issueInstant: new Date(now - 5 * 60_000),
        notOnOrAfter: new Date(now - 2 * 60_000),
      });

      await refused(() => postXml(t, slug, xml), TIME_REASON);
    });

    it('should refuse the response when NotBefore is in the future (beyond the clock skew)', async () => {
      const xml = await solicited({ notBefore: new Date(Date.now() + 5 * 60_000) });

      await refused(() => postXml(t, slug, xml), TIME_REASON);
    });

    it('should refuse the response when it is signed with SHA-1', async () => {
      const xml = await solicited({ signatureAlgorithm: 'sha1' });
      expect(xml).toContain('http://www.w3.org/2000/09/xmldsig#rsa-sha1');

      await refused(() => postXml(t, slug, xml), 'weak_signature_algorithm');
    });

    it('should refuse a SHA-1 signed response when the algorithm URIs are written with character references', async () => {
      // Canonicalisation turns &#x23; back into '#', so the signature stays valid: only a check on
      // the parsed algorithm (not on the raw text) notices SHA-1.
      const xml = (await solicited({ signatureAlgorithm: 'sha1' })).replace(
        /(Algorithm="http:\/\/www\.w3\.org\/2000\/09\/xmldsig)#((?:rsa-)?sha1")/g,
        '$1&#x23;$2',
      );
      expect(xml).not.toMatch(/xmldsig#(rsa-)?sha1/);

      await refused(
        () => postXml(t, slug, xml),
        /^(weak_signature_algorithm|weak_digest_algorithm|signature_invalid)$/,
      );
    });
  });

  describe('replay and InResponseTo', () => {
    it('should refuse the same valid response when it is posted a second time', async () => {
      const xml = await solicited({ nameId: `emp-${uniq()}` });
      codeFrom(await postXml(t, slug, xml));

      await refused(() => postXml(t, slug, xml), 'in_response_to_invalid');
    });

    it('should issue at most one login code when the same response is posted concurrently', async () => {
      // The user exists already, so concurrent winners would not collide on provisioning. A check
      // that reads the request id and consumes it later lets several of these through; only an
      // atomic take-once holds. Several rounds, because a race shows only some of the time.
      const nameId = `emp-${uniq()}`;
      const attributes = { email: `race-${uniq()}@example.com` };
      await signIn(t, slug, { nameId, attributes });

      for (let round = 0; round < 8; round += 1) {
        const xml = await solicited({ nameId, attributes });
        const before = await loginCodeCount(t);

        const results = await Promise.all(Array.from({ length: 25 }, () => postXml(t, slug, xml)));

        const statuses = results.map((r) => r.status);
        expect(statuses.filter((s) => s === 303)).toEqual([303]);
        expect(statuses.filter((s) => s !== 303 && (s < 400 || s >= 500))).toEqual([]);
        expect(await loginCodeCount(t)).toBe(before + 1);
      }
    });

    it('should refuse the response when InResponseTo names a request we never sent', async () => {
      const xml = samlXml(slug, { inResponseTo: `_never-sent-${uniq()}` });

      await refused(() => postXml(t, slug, xml), 'in_response_to_invalid');
    });

    it('should refuse an unsolicited response when allowUnsolicited is false', async () => {
      const xml = samlXml(slug, { inResponseTo: null });
      expect(xml).not.toContain('InResponseTo=');

      await refused(() => postXml(t, slug, xml), 'unsolicited_refused');
    });

    it("should refuse the response when it answers another tenant's request", async () => {
      const other = await seedTenant(t);
      await configureSaml(t, other.owner.auth);
      const { id: otherRequestId } = await startLogin(t, other.slug);

      await refused(
        () => postXml(t, slug, samlXml(slug, { inResponseTo: otherRequestId })),
        'in_response_to_invalid',
      );
    });

    it('should store the request id hashed in login_attempt when the login starts', async () => {
      const { id } = await startLogin(t, slug);

      const rows = await t.ds.query<Array<{ kind: string; tenant_id: string; used_at: unknown }>>(
        'SELECT kind, tenant_id, used_at FROM login_attempt WHERE lookup = $1',
        [sha256Hex(['saml-req', tenant.id, id].join('\0'))],
      );
      expect(rows).toEqual([{ kind: 'SAML_REQUEST', tenant_id: tenant.id, used_at: null }]);
      const raw = await t.ds.query<unknown[]>(
        'SELECT 1 FROM login_attempt WHERE lookup = $1 OR data::text LIKE $2',
        [id, `%${id}%`],
      );
      expect(raw).toHaveLength(0);
    });
  });

  describe('unsolicited responses when allowed', () => {
    let open: SeededTenant;

    beforeAll(async () => {
      open = await seedTenant(t);
      await configureSaml(t, open.owner.auth, { allowUnsolicited: true });
    });

    it('should sign in once and refuse the replay when allowUnsolicited is true', async () => {
      const email = `idp-init-${uniq()}@example.com`;
      const xml = samlXml(open.slug, {
        inResponseTo: null,
        nameId: `emp-${uniq()}`,
        attributes: { email, roles: [ADMIN_GROUP] },
      });

      const code = codeFrom(await postXml(t, open.slug, xml));
      const me = await meWith(t, (await exchange(t, code)).accessToken);
      expect(me).toMatchObject({ role: 'ADMIN', tenant: { slug: open.slug }, user: { email } });

      await expectRefused(t, open.id, () => postXml(t, open.slug, xml), 'assertion_replayed');
    });

    it('should refuse a used solicited response when its unsigned Response InResponseTo is stripped', async () => {
      const { id } = await startLogin(t, open.slug);
      const xml = samlXml(open.slug, { inResponseTo: id, nameId: `emp-${uniq()}` });
      codeFrom(await postXml(t, open.slug, xml));
      // Only the assertion is signed: the attacker deletes InResponseTo from the Response element
      // (SubjectConfirmationData keeps its signed copy) so the replay looks IdP-initiated.
      const stripped = xml.replace(/^(.*?<samlp:Response\b[^>]*?)\sInResponseTo="[^"]*"/s, '$1');
      expect(stripped).not.toBe(xml);
      expect(stripped).toContain(`InResponseTo="${id}"`);

      await expectRefused(t, open.id, () => postXml(t, open.slug, stripped), /^[a-z0-9_]+$/);
    });
  });

  describe('malicious XML and oversize bodies', () => {
    let dir: string;
    let secretFile: string;
    const CANARY = `ROOMKEY-SAML-XXE-CANARY-${uniq()}`;

    beforeAll(() => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'roomkey-saml-xxe-'));
      secretFile = path.join(dir, 'secret.txt');
      fs.writeFileSync(secretFile, CANARY);
    });
    afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

    const entityInNameId = (xml: string, entity: string): string =>
      xml.replace(
        /(<saml:NameID\b[^>]*>)[^<]*(<\/saml:NameID>)/,
        (_, open: string, close: string) => `${open}&${entity};${close}`,
      );

    it('should refuse the response without leaking the file when it declares an external entity (XXE)', async () => {
      const xml = entityInNameId(
        await solicited({
          doctype: `<!DOCTYPE samlp:Response [<!ENTITY xxe SYSTEM "file://${secretFile}">]>`,
        }),
        'xxe',
      );

      const res = await refused(() => postXml(t, slug, xml), 'doctype_refused');

      expect(JSON.stringify(res.headers)).not.toContain(CANARY);
      expect(res.text).not.toContain(CANARY);
      const audit = await t.ds.query<Array<{ j: string }>>(
        'SELECT row_to_json(e)::text AS j FROM audit_event e',
      );
      expect(audit.length).toBeGreaterThan(0);
      expect(audit.map((r) => r.j).join('\n')).not.toContain(CANARY);
      expect(t.logs.join('\n')).not.toContain(CANARY);
    });

    it('should refuse the response quickly when it carries a billion-laughs DOCTYPE', async () => {
      const levels = ['<!ENTITY lol0 "lol">'];
      for (let i = 1; i <= 9; i += 1) {
        levels.push(`<!ENTITY lol${i} "${`&lol${i - 1};`.repeat(10)}">`);
      }
      const xml = entityInNameId(
        await solicited({ doctype: `<!DOCTYPE samlp:Response [${levels.join('')}]>` }),
        'lol9',
      );
      // Refused by its DOCTYPE before any parser could expand the entities.
      await refused(() => postXml(t, slug, xml), 'doctype_refused');
    });

    it('should refuse an oversize SAMLResponse when it is above 256 KiB but under the body cap', async () => {
      // A genuinely signed response, only too big: 300 KiB of attribute.
      const xml = await solicited({
        attributes: { email: 'alice@example.com', padding: 'x'.repeat(300 * 1024) },
      });
      const encoded = encodePostBinding(xml);
      expect(encoded.length).toBeGreaterThan(256 * 1024);
      expect(encoded.length).toBeLessThan(1024 * 1024);

      await refused(
        () => postAcs(t, slug, { SAMLResponse: encoded, RelayState: REDIRECT }),
        'response_too_large',
      );
    });

    it('should answer 413 and create no login code when the body is 10 MB', async () => {
      const before = await loginCodeCount(t);
      const body = `RelayState=${encodeURIComponent(REDIRECT)}&SAMLResponse=${'A'.repeat(10 * 1024 * 1024)}`;

      const res = await t
        .http()
        .post(`/auth/saml/${slug}/acs`)
        .set('content-type', 'application/x-www-form-urlencoded')
        .send(body);

      expect(res.status).toBe(413);
      expect(res.headers.location).toBeUndefined();
      expect(await loginCodeCount(t)).toBe(before);
    });
  });

  describe('redirects (promise 4)', () => {
    it.each([
      ...EVIL_REDIRECTS,
      `${REDIRECT}/`,
      `${REDIRECT}?next=https://evil.com`,
      REDIRECT.toUpperCase(),
    ])(
      'should refuse a valid response without any Location when RelayState is %j',
      async (relayState) => {
        const xml = await solicited({ nameId: `emp-${uniq()}` });

        await refused(() => postXml(t, slug, xml, relayState), 'relay_state_not_allowed');
      },
    );

    it('should refuse a valid response without any Location when RelayState is missing', async () => {
      const xml = await solicited({ nameId: `emp-${uniq()}` });

      await refused(
        () => postAcs(t, slug, { SAMLResponse: encodePostBinding(xml) }),
        'relay_state_not_allowed',
      );
    });

    it.each([...EVIL_REDIRECTS, `${REDIRECT}/`, ''])(
      'should answer 400 BAD_USER_INPUT without a redirect when /login gets redirect_uri %j',
      async (redirectUri) => {
        const res = await t
          .http()
          .get(`/auth/saml/${slug}/login`)
          .query({ redirect_uri: redirectUri });

        expect(res.status).toBe(400);
        expect(res.headers.location).toBeUndefined();
        expect((res.body as { error?: { code?: string } }).error?.code).toBe('BAD_USER_INPUT');
      },
    );

    it('should answer 400 BAD_USER_INPUT without a redirect when /login gets no redirect_uri', async () => {
      const res = await t.http().get(`/auth/saml/${slug}/login`);

      expect(res.status).toBe(400);
      expect(res.headers.location).toBeUndefined();
      expect((res.body as { error?: { code?: string } }).error?.code).toBe('BAD_USER_INPUT');
    });
  });

  describe('identity', () => {
    it('should map to the same user when the same NameID comes back with a changed email', async () => {
      const nameId = `emp-${uniq()}`;
      const first = `first-${uniq()}@example.com`;
      const changed = `changed-${uniq()}@example.com`;

      const a = await signIn(t, slug, { nameId, attributes: { email: first } });
      const b = await signIn(t, slug, { nameId, attributes: { email: changed } });
      const c = await signIn(t, slug, {
        nameId: `emp-${uniq()}`,
        attributes: { email: `other-${uniq()}@example.com` },
      });

      expect(a.user?.email).toBe(first);
      expect(b.user?.id).toBe(a.user?.id);
      expect(await usersWithEmail(t, changed)).toBe(0);
      expect(c.user?.id).not.toBe(a.user?.id);
    });

    it('should map to different users when the same NameID comes from another IdP entity id', async () => {
      const nameId = `emp-${uniq()}`;
      const other = await seedTenant(t);
      await configureSaml(t, other.owner.auth, {
        idpEntityId: 'https://second-idp.example.test/metadata',
      });

      const a = await signIn(t, slug, {
        nameId,
        attributes: { email: `a-${uniq()}@example.com` },
      });
      const b = await signIn(t, other.slug, {
        nameId,
        idpEntityId: 'https://second-idp.example.test/metadata',
        attributes: { email: `b-${uniq()}@example.com` },
      });

      expect(b.tenant.slug).toBe(other.slug);
      expect(b.user?.id).not.toBe(a.user?.id);
    });
  });

  describe('configureSamlProvider', () => {
    let v: SeededTenant;

    const issuerOf = async (auth: string): Promise<string | undefined> => {
      const r = await t.gql<{ identityProviders: ProviderRow[] }>(PROVIDERS, {}, { auth });
      expect(r.body.errors).toBeUndefined();
      return r.body.data!.identityProviders.find((p) => p.kind === 'SAML')?.issuer;
    };

    beforeAll(async () => {
      v = await seedTenant(t);
      await configureSaml(t, v.owner.auth);
    });

    it('should return the SP URLs of the tenant when an OWNER configures SAML', async () => {
      const p = await configureSaml(t, v.owner.auth);

      expect(p).toMatchObject({
        kind: 'SAML',
        issuer: IDP_ENTITY_ID,
        redirectUris: [REDIRECT],
        metadataUrl: entityIdOf(v.slug),
        acsUrl: acsOf(v.slug),
      });
    });

    it.each([
      ['no certificate is given', []],
      ['the certificate is not a certificate', ['not a certificate']],
      [
        'the PEM armour wraps garbage',
        ['-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----'],
      ],
    ])('should answer BAD_USER_INPUT and change nothing when %s', async (_, certs) => {
      const r = await t.gql(
        CONFIGURE,
        {
          input: {
            idpEntityId: `https://changed-${uniq()}.example.test`,
            ssoUrl: SSO_URL,
            idpCertificates: certs,
            redirectUris: [REDIRECT],
          },
        },
        { auth: v.owner.auth },
      );

      expect(errorCode(r)).toBe('BAD_USER_INPUT');
      expect(r.body.data ?? null).toBeNull();
      expect(await issuerOf(v.owner.auth)).toBe(IDP_ENTITY_ID);
    });

    it('should answer FORBIDDEN and change nothing when a MEMBER configures SAML', async () => {
      const member = await seedMember(t, v, MemberRole.MEMBER);

      const r = await t.gql(
        CONFIGURE,
        {
          input: {
            idpEntityId: 'https://member-idp.example.test',
            ssoUrl: SSO_URL,
            idpCertificates: [attackerKey.certPem],
            redirectUris: [REDIRECT],
          },
        },
        { auth: member.auth },
      );

      expect(errorCode(r)).toBe('FORBIDDEN');
      expect(r.body.data ?? null).toBeNull();
      expect(await issuerOf(v.owner.auth)).toBe(IDP_ENTITY_ID);
    });

    it("should never show tenant A's SAML provider when tenant B's admin lists or configures providers", async () => {
      const a = await seedTenant(t);
      const aIssuer = `https://idp-a-${uniq()}.example.test`;
      const aProvider = await configureSaml(t, a.owner.auth, { idpEntityId: aIssuer });
      const b = await seedTenant(t);
      const bAdmin = await seedMember(t, b, MemberRole.ADMIN);

      const before = await t.gql<{ identityProviders: ProviderRow[] }>(
        PROVIDERS,
        {},
        { auth: bAdmin.auth },
      );
      expect(before.body.errors).toBeUndefined();
      expect(before.body.data!.identityProviders).toEqual([]);

      const bIssuer = `https://idp-b-${uniq()}.example.test`;
      const bProvider = await configureSaml(t, bAdmin.auth, { idpEntityId: bIssuer });
      const after = await t.gql<{ identityProviders: ProviderRow[] }>(
        PROVIDERS,
        {},
        { auth: bAdmin.auth },
      );

      expect(bProvider.id).not.toBe(aProvider.id);
      expect(after.body.data!.identityProviders).toEqual([
        expect.objectContaining({ id: bProvider.id, issuer: bIssuer, acsUrl: acsOf(b.slug) }),
      ]);
      expect(after.text).not.toContain(aIssuer);
      expect(after.text).not.toContain(aProvider.id);
      expect(await issuerOf(a.owner.auth)).toBe(aIssuer);
    });
  });
});

describe('SAML InResponseTo across app instances', () => {
  it('should complete the sign-in on a second instance when the login started on the first', async () => {
    // PostgreSQL: two apps at once on one scratch database. PGlite cannot share its folder between
    // instances, so the first app closes and a new one opens the same folder: either way only the
    // database can carry the request id from one to the other.
    const db = await durableDatabase('saml-instances');
    const env = { ROOMKEY_PUBLIC_URL: PUBLIC_URL, ...db.env };
    const cleanup = db.drop;
    const apps: TestApp[] = [];
    try {
      const first = await startTestApp(env);
      apps.push(first);
      const tenant = await seedTenant(first);
      await configureSaml(first, tenant.owner.auth);
      const { id } = await startLogin(first, tenant.slug);
      const stored = await first.ds.query<Array<{ kind: string }>>(
        'SELECT kind FROM login_attempt WHERE lookup = $1 AND tenant_id = $2 AND used_at IS NULL',
        [sha256Hex(['saml-req', tenant.id, id].join('\0')), tenant.id],
      );
      expect(stored).toEqual([{ kind: 'SAML_REQUEST' }]);

      if (!process.env.DATABASE_URL) {
        await first.close();
        apps.pop();
      }
      const second = await startTestApp(env);
      apps.push(second);
      const email = `multi-${uniq()}@example.com`;
      const res = await postXml(
        second,
        tenant.slug,
        samlXml(tenant.slug, {
          inResponseTo: id,
          nameId: `emp-${uniq()}`,
          attributes: { email, roles: [ADMIN_GROUP] },
        }),
      );
      const me = await meWith(second, (await exchange(second, codeFrom(res))).accessToken);

      expect(me).toMatchObject({ role: 'ADMIN', tenant: { slug: tenant.slug }, user: { email } });
      // And the request id is now spent for every instance.
      await expectRefused(
        second,
        tenant.id,
        () =>
          postXml(
            second,
            tenant.slug,
            samlXml(tenant.slug, { inResponseTo: id, nameId: `emp-${uniq()}` }),
          ),
        'in_response_to_invalid',
      );
    } finally {
      for (const app of apps.reverse()) await app.close();
      await cleanup();
    }
  });
});
