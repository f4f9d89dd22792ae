/**
 * Proves the test IdP against node-saml itself, configured the way the service will configure it:
 * genuine responses are accepted, forgeries are rejected, and the gaps node-saml leaves to the
 * service (Recipient, Destination, assertion Issuer, signature algorithm) are pinned down.
 */
import { X509Certificate, createPrivateKey, createPublicKey } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SAML, SamlStatusError, ValidateInResponseTo, type SamlConfig } from '@node-saml/node-saml';
import {
  buildSamlResponse,
  encodePostBinding,
  generateSamlKeyPair,
  parseAuthnRequestFromRedirect,
  type SamlKeyPair,
  type SamlResponseOptions,
} from './saml-idp';

const IDP_ENTITY_ID = 'http://127.0.0.1:1/idp/metadata';
const SP_ENTITY_ID = 'http://127.0.0.1:3000/auth/saml/metadata';
const ACS_URL = 'http://127.0.0.1:3000/auth/saml/acs';
const ENTRY_POINT = 'http://127.0.0.1:1/sso';
const FORGED = 'attacker@evil.example';

let idpKey: SamlKeyPair;
let attackerKey: SamlKeyPair;

beforeAll(() => {
  idpKey = generateSamlKeyPair('roomkey-test-idp');
  attackerKey = generateSamlKeyPair('roomkey-test-idp'); // same CN, different key
});

function serviceProvider(overrides: Partial<SamlConfig> = {}): SAML {
  return new SAML({
    entryPoint: ENTRY_POINT,
    issuer: SP_ENTITY_ID,
    callbackUrl: ACS_URL,
    idpCert: idpKey.certBase64,
    audience: SP_ENTITY_ID,
    wantAssertionsSigned: true,
    wantAuthnResponseSigned: false,
    signatureAlgorithm: 'sha256',
    digestAlgorithm: 'sha256',
    validateInResponseTo: ValidateInResponseTo.never,
    acceptedClockSkewMs: 5000,
    ...overrides,
  });
}

function samlResponse(overrides: Partial<SamlResponseOptions> = {}): string {
  return buildSamlResponse({
    idpEntityId: IDP_ENTITY_ID,
    spEntityId: SP_ENTITY_ID,
    acsUrl: ACS_URL,
    nameId: 'alice@example.com',
    attributes: {
      email: 'alice@example.com',
      displayName: 'Alice Example',
      roles: ['admin', 'member'],
    },
    key: idpKey,
    ...overrides,
  });
}

async function validate(xml: string, sp: SAML = serviceProvider()) {
  return sp.validatePostResponseAsync({ SAMLResponse: encodePostBinding(xml) });
}

describe('generateSamlKeyPair', () => {
  it('should produce a self-signed RSA 2048 certificate for the key when called with a CN', () => {
    const cert = new X509Certificate(idpKey.certPem);
    const privateKey = createPrivateKey(idpKey.privateKeyPem);

    expect(cert.subject).toBe('CN=roomkey-test-idp');
    expect(cert.issuer).toBe(cert.subject);
    expect(cert.publicKey.asymmetricKeyDetails?.modulusLength).toBe(2048);
    expect(cert.verify(cert.publicKey)).toBe(true);
    expect(cert.checkPrivateKey(privateKey)).toBe(true);
    expect(new Date(cert.validFrom).getTime()).toBeLessThan(Date.now());
    expect(new Date(cert.validTo).getTime()).toBeGreaterThan(Date.now() + 365 * 24 * 3600 * 1000);
  });

  it('should give the PEM body without armour or line breaks when certBase64 is read', () => {
    const body = idpKey.certPem
      .replace(/-----(BEGIN|END) CERTIFICATE-----/g, '')
      .replace(/\s+/g, '');

    expect(idpKey.certBase64).toBe(body);
    expect(idpKey.certBase64).toMatch(/^[A-Za-z0-9+/]+=*$/);
  });

  it('should produce an unrelated key when called twice', () => {
    const idpPublic = createPublicKey(idpKey.certPem).export({ type: 'spki', format: 'pem' });
    const attackerPublic = createPublicKey(attackerKey.certPem).export({
      type: 'spki',
      format: 'pem',
    });

    expect(attackerPublic).not.toEqual(idpPublic);
  });
});

describe('buildSamlResponse accepted by node-saml', () => {
  it('should yield the nameID, issuer and attributes when the assertion is signed', async () => {
    const xml = samlResponse();

    const { profile, loggedOut } = await validate(xml);

    expect(loggedOut).toBe(false);
    expect(profile).toMatchObject({
      issuer: IDP_ENTITY_ID,
      nameID: 'alice@example.com',
      nameIDFormat: 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress',
      email: 'alice@example.com',
      attributes: {
        email: 'alice@example.com',
        displayName: 'Alice Example',
        roles: ['admin', 'member'],
      },
    });
    expect(profile?.sessionIndex).toEqual(expect.any(String));
    // Schema order: the Signature sits right after the assertion's Issuer.
    expect(xml).toMatch(/<saml:Assertion [^>]*><saml:Issuer>[^<]*<\/saml:Issuer><ds:Signature /);
    expect(xml).toContain('http://www.w3.org/2001/04/xmldsig-more#rsa-sha256');
    expect(xml).toContain('http://www.w3.org/2001/04/xmlenc#sha256');
    expect(xml).not.toContain('<ds:KeyInfo');
  });

  it('should accept when idpCert is given as PEM and the cert is embedded in KeyInfo', async () => {
    const xml = samlResponse({ embedCertInKeyInfo: true });

    const { profile } = await validate(xml, serviceProvider({ idpCert: idpKey.certPem }));

    expect(xml).toContain(`<ds:X509Certificate>${idpKey.certBase64}</ds:X509Certificate>`);
    expect(profile?.nameID).toBe('alice@example.com');
  });

  it('should accept when both the response and the assertion are signed and both are required', async () => {
    const xml = samlResponse({ signResponse: true });

    const { profile } = await validate(xml, serviceProvider({ wantAuthnResponseSigned: true }));

    expect(xml).toMatch(/<samlp:Response [^>]*><saml:Issuer>[^<]*<\/saml:Issuer><ds:Signature /);
    expect(profile?.nameID).toBe('alice@example.com');
  });

  it('should accept when only the response is signed and only the response signature is required', async () => {
    const xml = samlResponse({ signAssertion: false, signResponse: true });

    const { profile } = await validate(
      xml,
      serviceProvider({ wantAssertionsSigned: false, wantAuthnResponseSigned: true }),
    );

    expect(profile?.nameID).toBe('alice@example.com');
  });

  it('should round-trip markup characters when the name ID and attribute values contain them', async () => {
    const tricky = `<b>Tom & "Jerry" 'O'Neil'</b> ]]> &amp;`;

    const { profile } = await validate(
      samlResponse({ nameId: 'tom&jerry@example.com', attributes: { displayName: tricky } }),
    );

    expect(profile?.nameID).toBe('tom&jerry@example.com');
    expect(profile?.attributes).toEqual({ displayName: tricky });
  });

  it('should accept when NotOnOrAfter passed less than acceptedClockSkewMs ago', async () => {
    const now = Date.now();
    const xml = samlResponse({
      issueInstant: new Date(now - 60_000),
      notOnOrAfter: new Date(now - 2_000),
    });

    await expect(validate(xml)).resolves.toMatchObject({
      profile: { nameID: 'alice@example.com' },
    });
  });

  it('should expose the verified assertion XML when getAssertionXml is called on the profile', async () => {
    const { profile } = await validate(samlResponse());

    const assertionXml = profile?.getAssertionXml?.() ?? '';
    const responseXml = profile?.getSamlResponseXml?.() ?? '';

    // The canonical bytes the signature covers (enveloped Signature removed): safe to read.
    expect(assertionXml).toMatch(/^<saml:Assertion /);
    expect(assertionXml).toContain(`Recipient="${ACS_URL}"`);
    expect(assertionXml).not.toContain('Signature');
    // The raw POSTed Response: NOT covered by the assertion signature.
    expect(responseXml).toContain(`Destination="${ACS_URL}"`);
  });

  it('should surface the IdP status when the response carries a non-success status', async () => {
    const xml = samlResponse({
      statusCode: 'urn:oasis:names:tc:SAML:2.0:status:Responder',
      statusMessage: 'User is not assigned to this application',
    });

    const error: unknown = await validate(xml).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(SamlStatusError);
    expect((error as Error).message).toBe(
      'SAML provider returned Responder error: User is not assigned to this application',
    );
  });
});

describe('buildSamlResponse forgeries rejected by node-saml', () => {
  it('should reject when the assertion is not signed', async () => {
    const xml = samlResponse({ signAssertion: false });

    expect(xml).not.toContain('Signature');
    await expect(validate(xml)).rejects.toThrow('Invalid signature');
  });

  it('should reject when an attacker signs with their own key and embeds their cert in KeyInfo', async () => {
    const xml = samlResponse({ key: attackerKey, embedCertInKeyInfo: true, signResponse: true });

    expect(xml).toContain(attackerKey.certBase64);
    await expect(validate(xml)).rejects.toThrow('Invalid signature');
  });

  it('should reject when the audience is another SP', async () => {
    const xml = samlResponse({ audience: 'http://127.0.0.1:4000/other-sp' });

    await expect(validate(xml)).rejects.toThrow('SAML assertion audience mismatch');
  });

  it('should reject when NotOnOrAfter is in the past beyond the clock skew', async () => {
    const now = Date.now();
    const xml = samlResponse({
      issueInstant: new Date(now - 10 * 60_000),
      notOnOrAfter: new Date(now - 60_000),
    });

    await expect(validate(xml)).rejects.toThrow('SAML assertion expired');
  });

  it('should reject when NotBefore is in the future beyond the clock skew', async () => {
    const xml = samlResponse({ notBefore: new Date(Date.now() + 60_000) });

    await expect(validate(xml)).rejects.toThrow('SAML assertion not yet valid');
  });

  it.each([
    ['the assertion is signed', {}],
    ['the whole response is signed too', { signResponse: true }],
  ])('should reject a second unsigned assertion when %s', async (_, extra) => {
    const xml = samlResponse({ extraUnsignedAssertion: true, ...extra });

    expect(xml.match(/<saml:Assertion /g)).toHaveLength(2);
    expect(xml).toContain(FORGED);
    await expect(validate(xml)).rejects.toThrow('Invalid signature: multiple assertions');
  });

  it.each([
    ['assertion-in-extensions', { signAssertion: true }, {}],
    ['assertion-in-extensions', { signAssertion: true, signResponse: true }, {}],
    ['response-wrapper', { signAssertion: true }, {}],
    ['response-wrapper', { signAssertion: true, signResponse: true }, {}],
    [
      'response-wrapper',
      { signAssertion: true, signResponse: true },
      { wantAuthnResponseSigned: true },
    ],
  ] as const)(
    'should reject signature wrapping when the variant is %s (IdP signs %j, SP overrides %j)',
    async (variant, signing, spOverrides) => {
      const xml = samlResponse({ ...signing, wrapSignature: variant });

      // The genuine, validly signed assertion is still in the document; the forgery sits where
      // node-saml looks (Response/Assertion) and carries a copy of the genuine Signature.
      expect(xml).toContain('alice@example.com');
      expect(xml).toContain(FORGED);
      expect(xml).toContain('<samlp:Extensions>');
      // node-saml finds the copied Signature under the forged assertion and refuses it because
      // its Reference points at another element than the Signature's parent.
      await expect(validate(xml, serviceProvider(spOverrides))).rejects.toThrow(
        "Invalid signature: Referenced node does not refer to it's parent element",
      );
    },
  );

  describe('with a DOCTYPE', () => {
    let dir: string;
    let secretFile: string;
    const SECRET = 'ROOMKEY-XXE-CANARY-7f3a';

    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 'roomkey-saml-xxe-'));
      secretFile = join(dir, 'secret.txt');
      writeFileSync(secretFile, SECRET);
    });

    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    /** Puts an entity reference where the name ID was (an attacker edits the XML after signing). */
    function withEntityInNameId(xml: string, entity: string): string {
      return xml.replace(
        /(<saml:NameID\b[^>]*>)[^<]*(<\/saml:NameID>)/,
        (_, open: string, close: string) => `${open}&${entity};${close}`,
      );
    }

    it('should reject without reading the file when an external entity (XXE) is referenced', async () => {
      const xml = withEntityInNameId(
        samlResponse({
          doctype: `<!DOCTYPE samlp:Response [<!ENTITY xxe SYSTEM "file://${secretFile}">]>`,
        }),
        'xxe',
      );

      const outcome = await validate(xml).then(
        (result) => ({ result, error: null }),
        (error: Error) => ({ result: null, error }),
      );

      expect(outcome.result).toBeNull();
      expect(outcome.error?.message).toMatch(/entity not found:&xxe;/);
      expect(JSON.stringify(outcome)).not.toContain(SECRET);
      expect(outcome.error?.message).not.toContain(SECRET);
    });

    it('should reject quickly when a billion-laughs entity expansion is referenced', async () => {
      const levels = ['<!ENTITY lol0 "lol">'];
      for (let i = 1; i <= 9; i += 1) {
        levels.push(`<!ENTITY lol${i} "${`&lol${i - 1};`.repeat(10)}">`);
      }
      const xml = withEntityInNameId(
        samlResponse({ doctype: `<!DOCTYPE samlp:Response [${levels.join('')}]>` }),
        'lol9',
      );
      // xmldom never expands the declared entities: the reference fails instead of growing.
      await expect(validate(xml)).rejects.toThrow(/entity not found:&lol\d;/);
    });

    it('should still accept a signed response when the DOCTYPE declares entities nobody references', async () => {
      // node-saml does not refuse DTDs as such; xmldom just never expands declared entities.
      const xml = samlResponse({
        doctype: `<!DOCTYPE samlp:Response [<!ENTITY xxe SYSTEM "file://${secretFile}">]>`,
      });

      const { profile } = await validate(xml);

      expect(profile?.nameID).toBe('alice@example.com');
      expect(JSON.stringify(profile)).not.toContain(SECRET);
    });
  });
});

describe('what node-saml leaves to the service', () => {
  it('should accept when Recipient and Destination name another endpoint (node-saml checks neither)', async () => {
    const elsewhere = 'http://127.0.0.1:4000/evil/acs';
    const xml = samlResponse({ recipient: elsewhere, destination: elsewhere });

    const { profile } = await validate(xml);

    expect(profile?.nameID).toBe('alice@example.com');
    expect(profile?.getAssertionXml?.()).toContain(`Recipient="${elsewhere}"`);
  });

  it('should accept when Recipient and Destination are omitted', async () => {
    const xml = samlResponse({ recipient: null, destination: null });

    expect(xml).not.toContain('Recipient=');
    expect(xml).not.toContain('Destination=');
    await expect(validate(xml)).resolves.toMatchObject({
      profile: { nameID: 'alice@example.com' },
    });
  });

  it('should accept when the assertion Issuer differs from idpIssuer (only checked for logout messages)', async () => {
    const xml = samlResponse({ idpEntityId: 'http://127.0.0.1:1/some-other-idp' });

    const { profile } = await validate(xml, serviceProvider({ idpIssuer: IDP_ENTITY_ID }));

    expect(profile?.issuer).toBe('http://127.0.0.1:1/some-other-idp');
  });

  it('should accept an expired bearer SubjectConfirmationData when validateInResponseTo is never', async () => {
    const xml = samlResponse({ subjectNotOnOrAfter: new Date(Date.now() - 60_000) });

    const { profile } = await validate(xml);

    expect(profile?.nameID).toBe('alice@example.com');
  });

  it('should reject an expired bearer SubjectConfirmationData when the InResponseTo is validated', async () => {
    const sp = serviceProvider({ validateInResponseTo: ValidateInResponseTo.always });
    const { id } = parseAuthnRequestFromRedirect(await sp.getAuthorizeUrlAsync('', undefined, {}));
    const xml = samlResponse({
      inResponseTo: id,
      subjectNotOnOrAfter: new Date(Date.now() - 60_000),
    });

    await expect(validate(xml, sp)).rejects.toThrow(
      'No valid subject confirmation found among those available in the SAML assertion',
    );
  });

  it('should accept an rsa-sha1 signature when the SP is configured with signatureAlgorithm sha256', async () => {
    const xml = samlResponse({ signatureAlgorithm: 'sha1' });

    const { profile } = await validate(xml);

    expect(xml).toContain('http://www.w3.org/2000/09/xmldsig#rsa-sha1');
    expect(xml).toContain('http://www.w3.org/2000/09/xmldsig#sha1');
    expect(profile?.nameID).toBe('alice@example.com');
  });
});

describe('parseAuthnRequestFromRedirect', () => {
  it('should read back the ID, Destination, Issuer, ACS URL and RelayState when given getAuthorizeUrlAsync output', async () => {
    const sp = serviceProvider();

    const location = await sp.getAuthorizeUrlAsync('state&with=odd chars', undefined, {});
    const request = parseAuthnRequestFromRedirect(location);

    expect(location.startsWith(`${ENTRY_POINT}?SAMLRequest=`)).toBe(true);
    expect(request).toMatchObject({
      destination: ENTRY_POINT,
      issuer: SP_ENTITY_ID,
      acsUrl: ACS_URL,
      relayState: 'state&with=odd chars',
    });
    expect(request.id).toMatch(/^_[0-9a-f]+$/);
    expect(request.xml).toContain(`ID="${request.id}"`);
  });

  it('should complete an SP-initiated login when the response answers the parsed request ID', async () => {
    const sp = serviceProvider({ validateInResponseTo: ValidateInResponseTo.always });
    const { id } = parseAuthnRequestFromRedirect(await sp.getAuthorizeUrlAsync('', undefined, {}));

    const { profile } = await validate(samlResponse({ inResponseTo: id }), sp);

    expect(profile).toMatchObject({ nameID: 'alice@example.com', inResponseTo: id });
  });

  it('should reject the response when InResponseTo names a request the SP never sent', async () => {
    const sp = serviceProvider({ validateInResponseTo: ValidateInResponseTo.always });
    await sp.getAuthorizeUrlAsync('', undefined, {});

    await expect(validate(samlResponse({ inResponseTo: '_never-sent' }), sp)).rejects.toThrow(
      'InResponseTo is not valid',
    );
  });

  it('should reject an unsolicited response when validateInResponseTo is always', async () => {
    const sp = serviceProvider({ validateInResponseTo: ValidateInResponseTo.always });

    await expect(validate(samlResponse({ inResponseTo: null }), sp)).rejects.toThrow(
      'InResponseTo is missing from response',
    );
  });

  it('should throw when the URL carries no SAMLRequest', () => {
    expect(() => parseAuthnRequestFromRedirect(`${ENTRY_POINT}?RelayState=x`)).toThrow(
      'no SAMLRequest parameter',
    );
  });
});
