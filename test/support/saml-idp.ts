/**
 * A test-side SAML 2.0 Identity Provider: key material, signed Responses (HTTP-POST binding) and a
 * reader for the SP's AuthnRequest (HTTP-Redirect binding). Everything is built in memory; nothing
 * listens on the network.
 *
 * The XML is written by hand in the shape real IdPs (Okta, Entra ID, Keycloak) produce and signed
 * with xml-crypto exactly as the XMLDSig profile of SAML requires: an enveloped signature over the
 * element's ID, exclusive c14n, placed right after the element's own Issuer. Attack knobs produce
 * the classic forgeries (unsigned, foreign key, wrapped signatures, extra assertions, DOCTYPE).
 */
import { generateKeyPairSync, randomBytes, sign as rsaSign, X509Certificate } from 'node:crypto';
import { inflateRawSync } from 'node:zlib';
import { SignedXml } from 'xml-crypto';

export const SAML_PROTOCOL_NS = 'urn:oasis:names:tc:SAML:2.0:protocol';
export const SAML_ASSERTION_NS = 'urn:oasis:names:tc:SAML:2.0:assertion';
export const SAML_STATUS_SUCCESS = 'urn:oasis:names:tc:SAML:2.0:status:Success';
const XS_NS = 'http://www.w3.org/2001/XMLSchema';
const XSI_NS = 'http://www.w3.org/2001/XMLSchema-instance';
const EXC_C14N = 'http://www.w3.org/2001/10/xml-exc-c14n#';
const ENVELOPED_SIGNATURE = 'http://www.w3.org/2000/09/xmldsig#enveloped-signature';
const ALGORITHMS = {
  sha256: {
    signature: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
    digest: 'http://www.w3.org/2001/04/xmlenc#sha256',
  },
  sha1: {
    signature: 'http://www.w3.org/2000/09/xmldsig#rsa-sha1',
    digest: 'http://www.w3.org/2000/09/xmldsig#sha1',
  },
} as const;

// ---------------------------------------------------------------------------------------------
// Key material: RSA 2048 + a self-signed X.509 v3 certificate, DER-encoded by hand (pure Node).
// ---------------------------------------------------------------------------------------------

export interface SamlKeyPair {
  privateKeyPem: string;
  certPem: string;
  /** The certificate's base64 body without PEM armour or line breaks (what IdP metadata carries). */
  certBase64: string;
}

function derLength(length: number): Buffer {
  if (length < 0x80) return Buffer.from([length]);
  const bytes: number[] = [];
  for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

function der(tag: number, ...content: Buffer[]): Buffer {
  const body = Buffer.concat(content);
  return Buffer.concat([Buffer.from([tag]), derLength(body.length), body]);
}

const derSequence = (...content: Buffer[]): Buffer => der(0x30, ...content);

function derUnsignedInteger(value: Buffer): Buffer {
  let start = 0;
  while (start < value.length - 1 && value[start] === 0) start += 1;
  const trimmed = value.subarray(start);
  return der(
    0x02,
    (trimmed[0] & 0x80) !== 0 ? Buffer.concat([Buffer.from([0]), trimmed]) : trimmed,
  );
}

function derOid(oid: string): Buffer {
  const [first, second, ...rest] = oid.split('.').map(Number);
  const bytes = [first * 40 + second];
  for (const arc of rest) {
    const chunk = [arc & 0x7f];
    for (let value = Math.floor(arc / 128); value > 0; value = Math.floor(value / 128)) {
      chunk.unshift((value & 0x7f) | 0x80);
    }
    bytes.push(...chunk);
  }
  return der(0x06, Buffer.from(bytes));
}

function derTime(date: Date): Buffer {
  const iso = date.toISOString(); // YYYY-MM-DDTHH:MM:SS.sssZ
  const digits = iso.slice(0, 19).replace(/[-:T]/g, '') + 'Z'; // YYYYMMDDHHMMSSZ
  const year = date.getUTCFullYear();
  // RFC 5280 4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050.
  return year < 2050
    ? der(0x17, Buffer.from(digits.slice(2), 'ascii'))
    : der(0x18, Buffer.from(digits, 'ascii'));
}

function derName(commonName: string): Buffer {
  const attribute = derSequence(derOid('2.5.4.3'), der(0x0c, Buffer.from(commonName, 'utf8')));
  return derSequence(der(0x31, attribute));
}

function toPem(label: string, body: Buffer): string {
  const lines = body.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

/** Generates an RSA 2048 key and a self-signed sha256WithRSAEncryption certificate for it. */
export function generateSamlKeyPair(cn = 'roomkey-test-idp'): SamlKeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const sha256WithRsa = derSequence(derOid('1.2.840.113549.1.1.11'), der(0x05));
  const notBefore = new Date(Date.now() - 60 * 60 * 1000);
  const notAfter = new Date(Date.now() + 10 * 365 * 24 * 60 * 60 * 1000);
  const serial = randomBytes(16);
  serial[0] &= 0x7f; // positive
  const tbsCertificate = derSequence(
    der(0xa0, derUnsignedInteger(Buffer.from([2]))), // [0] EXPLICIT version v3
    derUnsignedInteger(serial),
    sha256WithRsa,
    derName(cn), // issuer
    derSequence(derTime(notBefore), derTime(notAfter)),
    derName(cn), // subject
    publicKey.export({ type: 'spki', format: 'der' }),
  );
  const signature = rsaSign('sha256', tbsCertificate, privateKey);
  const certificate = derSequence(
    tbsCertificate,
    sha256WithRsa,
    der(0x03, Buffer.concat([Buffer.from([0]), signature])), // BIT STRING, 0 unused bits
  );
  const certPem = toPem('CERTIFICATE', certificate);
  // Fail here, not in a confusing signature error later, if the encoding were ever wrong.
  if (!new X509Certificate(certPem).verify(publicKey)) {
    throw new Error('generated SAML certificate does not verify');
  }
  return {
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    certPem,
    certBase64: certificate.toString('base64'),
  };
}

// ---------------------------------------------------------------------------------------------
// Responses
// ---------------------------------------------------------------------------------------------

export interface SamlResponseOptions {
  idpEntityId: string;
  /** The SP entity ID; the Audience unless `audience` overrides it. */
  spEntityId: string;
  /** The SP's Assertion Consumer Service URL: Recipient and Destination unless overridden. */
  acsUrl: string;
  nameId: string;
  /** Defaults to emailAddress when nameId contains '@', otherwise unspecified. */
  nameIdFormat?: string;
  /** Each value becomes one AttributeValue; arrays become multi-valued attributes. */
  attributes?: Record<string, string | string[]>;
  /** The AuthnRequest ID being answered; null/undefined = unsolicited (IdP-initiated). */
  inResponseTo?: string | null;
  /** Default: issueInstant. */
  notBefore?: Date;
  /** SubjectConfirmationData NotOnOrAfter alone (the bearer window). Default: notOnOrAfter. */
  subjectNotOnOrAfter?: Date;
  /** Conditions NotOnOrAfter (and SubjectConfirmationData's unless set). Default: issueInstant + 5 min. */
  notOnOrAfter?: Date;
  /** Default: now. */
  issueInstant?: Date;
  /** AuthnStatement SessionNotOnOrAfter. Default: issueInstant + 8 hours. */
  sessionNotOnOrAfter?: Date;
  /** Default true. */
  signAssertion?: boolean;
  /** Default false. */
  signResponse?: boolean;
  key: SamlKeyPair;
  /** A non-Success top-level status code (e.g. ...:status:Responder): the Response carries no assertion. */
  statusCode?: string;
  statusMessage?: string;

  // ---- attack knobs ----
  /** Overrides the Audience (default spEntityId). */
  audience?: string;
  /** Overrides SubjectConfirmationData/@Recipient (default acsUrl); null omits it. */
  recipient?: string | null;
  /** Overrides Response/@Destination (default acsUrl); null omits it. */
  destination?: string | null;
  assertionId?: string;
  responseId?: string;
  /** Adds a second, unsigned assertion for `forgedNameId` beside the real one (before any response signing). */
  extraUnsignedAssertion?: boolean;
  /**
   * XML Signature Wrapping, applied after signing, as an attacker who captured a genuine Response would:
   * - 'assertion-in-extensions': the genuine signed assertion moves into samlp:Extensions; in its place
   *   stands a forged assertion (new ID, `forgedNameId`) carrying a copy of the genuine Signature.
   * - 'response-wrapper': the genuine Response is nested in the samlp:Extensions of a new root Response
   *   that holds a copy of the genuine response Signature (if any) and a forged assertion as above.
   */
  wrapSignature?: 'assertion-in-extensions' | 'response-wrapper';
  /** The identity the forgeries claim. Default 'attacker@evil.example'. */
  forgedNameId?: string;
  /** Put KeyInfo/X509Data with `key.certPem` into each Signature (an attacker embeds their own cert). */
  embedCertInKeyInfo?: boolean;
  /** Inserted verbatim between the XML declaration and the root element (XXE, billion laughs). */
  doctype?: string;
  /** Default 'sha256' (rsa-sha256 + sha256 digest); 'sha1' uses rsa-sha1 + sha1 digest. */
  signatureAlgorithm?: 'sha256' | 'sha1';
}

const FIVE_MINUTES_MS = 5 * 60 * 1000;
const EIGHT_HOURS_MS = 8 * 60 * 60 * 1000;

/** xs:dateTime in UTC without fractional seconds, as most IdPs emit. */
function samlInstant(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function newSamlId(): string {
  return `_${randomBytes(20).toString('hex')}`;
}

export function escapeXmlText(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export function escapeXmlAttribute(value: string): string {
  return escapeXmlText(value)
    .replace(/"/g, '&quot;')
    .replace(/\t/g, '&#9;')
    .replace(/\n/g, '&#10;')
    .replace(/\r/g, '&#13;');
}

function attrs(values: Record<string, string | null | undefined>): string {
  return Object.entries(values)
    .filter((entry): entry is [string, string] => typeof entry[1] === 'string')
    .map(([name, value]) => ` ${name}="${escapeXmlAttribute(value)}"`)
    .join('');
}

interface AssertionParts {
  id: string;
  nameId: string;
  nameIdFormat: string;
  issuer: string;
  issueInstant: string;
  notBefore: string;
  notOnOrAfter: string;
  subjectNotOnOrAfter: string;
  sessionNotOnOrAfter: string;
  audience: string;
  recipient: string | null;
  inResponseTo: string | null;
  attributes: Record<string, string | string[]>;
}

function renderAssertion(p: AssertionParts): string {
  const attributeXml = Object.entries(p.attributes)
    .map(([name, value]) => {
      const values = (Array.isArray(value) ? value : [value])
        .map(
          (v) =>
            `<saml:AttributeValue xsi:type="xs:string">${escapeXmlText(v)}</saml:AttributeValue>`,
        )
        .join('');
      const nameFormat = name.includes(':')
        ? 'urn:oasis:names:tc:SAML:2.0:attrname-format:uri'
        : 'urn:oasis:names:tc:SAML:2.0:attrname-format:basic';
      return `<saml:Attribute${attrs({ Name: name, NameFormat: nameFormat })}>${values}</saml:Attribute>`;
    })
    .join('');
  return (
    `<saml:Assertion${attrs({
      'xmlns:saml': SAML_ASSERTION_NS,
      'xmlns:xs': XS_NS,
      'xmlns:xsi': XSI_NS,
      ID: p.id,
      Version: '2.0',
      IssueInstant: p.issueInstant,
    })}>` +
    `<saml:Issuer>${escapeXmlText(p.issuer)}</saml:Issuer>` +
    `<saml:Subject>` +
    `<saml:NameID${attrs({ Format: p.nameIdFormat })}>${escapeXmlText(p.nameId)}</saml:NameID>` +
    `<saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer">` +
    `<saml:SubjectConfirmationData${attrs({
      InResponseTo: p.inResponseTo,
      NotOnOrAfter: p.subjectNotOnOrAfter,
      Recipient: p.recipient,
    })}/>` +
    `</saml:SubjectConfirmation>` +
    `</saml:Subject>` +
    `<saml:Conditions${attrs({ NotBefore: p.notBefore, NotOnOrAfter: p.notOnOrAfter })}>` +
    `<saml:AudienceRestriction><saml:Audience>${escapeXmlText(p.audience)}</saml:Audience></saml:AudienceRestriction>` +
    `</saml:Conditions>` +
    `<saml:AuthnStatement${attrs({
      AuthnInstant: p.issueInstant,
      SessionIndex: `${p.id}-session`,
      SessionNotOnOrAfter: p.sessionNotOnOrAfter,
    })}>` +
    `<saml:AuthnContext><saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport</saml:AuthnContextClassRef></saml:AuthnContext>` +
    `</saml:AuthnStatement>` +
    (attributeXml ? `<saml:AttributeStatement>${attributeXml}</saml:AttributeStatement>` : '') +
    `</saml:Assertion>`
  );
}

function byId(localName: string, id: string): string {
  return `//*[local-name(.)='${localName}' and namespace-uri(.)='${localName === 'Response' ? SAML_PROTOCOL_NS : SAML_ASSERTION_NS}' and @ID='${id}']`;
}

/** Enveloped, exclusive-c14n signature over the element with this ID, placed right after its Issuer. */
function signElement(
  xml: string,
  localName: 'Assertion' | 'Response',
  id: string,
  opts: SamlResponseOptions,
): string {
  const algorithm = ALGORITHMS[opts.signatureAlgorithm ?? 'sha256'];
  const sig = new SignedXml({
    privateKey: opts.key.privateKeyPem,
    publicCert: opts.embedCertInKeyInfo ? opts.key.certPem : undefined,
    signatureAlgorithm: algorithm.signature,
    canonicalizationAlgorithm: EXC_C14N,
  });
  sig.addReference({
    xpath: byId(localName, id),
    transforms: [ENVELOPED_SIGNATURE, EXC_C14N],
    digestAlgorithm: algorithm.digest,
  });
  sig.computeSignature(xml, {
    prefix: 'ds',
    location: {
      reference: `${byId(localName, id)}/*[local-name(.)='Issuer' and namespace-uri(.)='${SAML_ASSERTION_NS}']`,
      action: 'after',
    },
  });
  return sig.getSignedXml();
}

/** The complete element starting at `start` (which must point at `<prefix:Name`), by its end tag. */
function elementAt(xml: string, start: number, qName: string): string {
  const endTag = `</${qName}>`;
  const end = xml.indexOf(endTag, start);
  if (start < 0 || end < 0) throw new Error(`saml-idp: no <${qName}> element found`);
  return xml.slice(start, end + endTag.length);
}

/** The first element with this qualified name (our own output never nests Assertion or Signature). */
function firstElement(xml: string, qName: string): string | null {
  const start = xml.indexOf(`<${qName} `);
  return start < 0 ? null : elementAt(xml, start, qName);
}

/** A copy of a signed assertion that claims another identity under a new ID, keeping its Signature. */
function forgeAssertion(genuine: string, forgedNameId: string): string {
  return genuine
    .replace(
      /^(<saml:Assertion\b[^>]*?\sID=")[^"]*(")/,
      (_, open: string, close: string) => `${open}${newSamlId()}${close}`,
    )
    .replace(
      /(<saml:NameID\b[^>]*>)[^<]*(<\/saml:NameID>)/,
      (_, open: string, close: string) => `${open}${escapeXmlText(forgedNameId)}${close}`,
    );
}

/** Builds a complete samlp:Response (with XML declaration) as an IdP would POST it. */
export function buildSamlResponse(opts: SamlResponseOptions): string {
  const issueInstantDate = opts.issueInstant ?? new Date();
  const issueInstant = samlInstant(issueInstantDate);
  const notOnOrAfter = samlInstant(
    opts.notOnOrAfter ?? new Date(issueInstantDate.getTime() + FIVE_MINUTES_MS),
  );
  const responseId = opts.responseId ?? newSamlId();
  const assertionId = opts.assertionId ?? newSamlId();
  const forgedNameId = opts.forgedNameId ?? 'attacker@evil.example';
  const statusCode = opts.statusCode ?? SAML_STATUS_SUCCESS;
  const success = statusCode === SAML_STATUS_SUCCESS;

  const parts: AssertionParts = {
    id: assertionId,
    nameId: opts.nameId,
    nameIdFormat:
      opts.nameIdFormat ??
      (opts.nameId.includes('@')
        ? 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress'
        : 'urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified'),
    issuer: opts.idpEntityId,
    issueInstant,
    notBefore: samlInstant(opts.notBefore ?? issueInstantDate),
    notOnOrAfter,
    subjectNotOnOrAfter: opts.subjectNotOnOrAfter
      ? samlInstant(opts.subjectNotOnOrAfter)
      : notOnOrAfter,
    sessionNotOnOrAfter: samlInstant(
      opts.sessionNotOnOrAfter ?? new Date(issueInstantDate.getTime() + EIGHT_HOURS_MS),
    ),
    audience: opts.audience ?? opts.spEntityId,
    recipient: opts.recipient === undefined ? opts.acsUrl : opts.recipient,
    inResponseTo: opts.inResponseTo ?? null,
    attributes: opts.attributes ?? {},
  };
  let assertions = success ? renderAssertion(parts) : '';
  if (success && opts.extraUnsignedAssertion) {
    assertions += renderAssertion({ ...parts, id: newSamlId(), nameId: forgedNameId });
  }

  const rootAttributes = {
    'xmlns:samlp': SAML_PROTOCOL_NS,
    'xmlns:saml': SAML_ASSERTION_NS,
    ID: responseId,
    Version: '2.0',
    IssueInstant: issueInstant,
    Destination: opts.destination === undefined ? opts.acsUrl : opts.destination,
    InResponseTo: opts.inResponseTo ?? null,
  };
  const status =
    `<samlp:Status><samlp:StatusCode${attrs({ Value: statusCode })}/>` +
    (opts.statusMessage
      ? `<samlp:StatusMessage>${escapeXmlText(opts.statusMessage)}</samlp:StatusMessage>`
      : '') +
    `</samlp:Status>`;
  let xml =
    `<samlp:Response${attrs(rootAttributes)}>` +
    `<saml:Issuer>${escapeXmlText(opts.idpEntityId)}</saml:Issuer>` +
    status +
    assertions +
    `</samlp:Response>`;

  if (success && (opts.signAssertion ?? true)) {
    xml = signElement(xml, 'Assertion', assertionId, opts);
  }
  if (opts.signResponse ?? false) {
    xml = signElement(xml, 'Response', responseId, opts);
  }

  if (opts.wrapSignature === 'assertion-in-extensions') {
    const genuine = firstElement(xml, 'saml:Assertion');
    if (!genuine) throw new Error('saml-idp: wrapSignature needs an assertion');
    xml = xml
      .replace(genuine, () => forgeAssertion(genuine, forgedNameId))
      .replace(
        '<samlp:Status>',
        () => `<samlp:Extensions>${genuine}</samlp:Extensions><samlp:Status>`,
      );
  } else if (opts.wrapSignature === 'response-wrapper') {
    const genuineAssertion = firstElement(xml, 'saml:Assertion');
    if (!genuineAssertion) throw new Error('saml-idp: wrapSignature needs an assertion');
    // The response's own Signature (if signed) sits between its Issuer and its Status.
    const beforeStatus = xml.slice(0, xml.indexOf('<samlp:Status>'));
    const responseSignature = firstElement(beforeStatus, 'ds:Signature') ?? '';
    xml =
      `<samlp:Response${attrs({ ...rootAttributes, ID: newSamlId() })}>` +
      `<saml:Issuer>${escapeXmlText(opts.idpEntityId)}</saml:Issuer>` +
      responseSignature +
      `<samlp:Extensions>${xml}</samlp:Extensions>` +
      status +
      forgeAssertion(genuineAssertion, forgedNameId) +
      `</samlp:Response>`;
  }

  return `<?xml version="1.0" encoding="UTF-8"?>${opts.doctype ?? ''}${xml}`;
}

/** The value of the SAMLResponse form field for the HTTP-POST binding. */
export function encodePostBinding(xml: string): string {
  return Buffer.from(xml, 'utf8').toString('base64');
}

// ---------------------------------------------------------------------------------------------
// AuthnRequest (HTTP-Redirect binding)
// ---------------------------------------------------------------------------------------------

export interface ParsedAuthnRequest {
  id: string;
  destination: string;
  issuer: string;
  acsUrl?: string;
  relayState?: string;
  /** The inflated AuthnRequest XML. */
  xml: string;
}

function unescapeXml(value: string): string {
  return value.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|lt|gt|amp|quot|apos);/g, (_, entity: string) => {
    if (entity.startsWith('#x')) return String.fromCodePoint(parseInt(entity.slice(2), 16));
    if (entity.startsWith('#')) return String.fromCodePoint(parseInt(entity.slice(1), 10));
    return { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" }[entity] ?? '';
  });
}

/**
 * Reads the AuthnRequest out of an HTTP-Redirect binding URL (a 302 Location): SAMLRequest is
 * base64 of raw DEFLATE. Parses the root element's attributes and the Issuer; enough for requests
 * produced by node-saml, without pulling a DOM implementation into the test types.
 */
export function parseAuthnRequestFromRedirect(location: string): ParsedAuthnRequest {
  const url = new URL(location, 'http://127.0.0.1');
  const samlRequest = url.searchParams.get('SAMLRequest');
  if (!samlRequest) throw new Error(`no SAMLRequest parameter in ${location}`);
  const xml = inflateRawSync(Buffer.from(samlRequest, 'base64')).toString('utf8');
  if (/<!DOCTYPE/i.test(xml)) throw new Error('AuthnRequest must not carry a DOCTYPE');

  const root =
    /<(?:[A-Za-z_][\w.-]*:)?AuthnRequest((?:\s+[\w:.-]+\s*=\s*(?:"[^"]*"|'[^']*'))*)\s*\/?>/.exec(
      xml,
    );
  if (!root) throw new Error(`not an AuthnRequest: ${xml.slice(0, 200)}`);
  const attributes = new Map<string, string>();
  for (const m of root[1].matchAll(/([\w:.-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/g)) {
    attributes.set(m[1], unescapeXml(m[2] ?? m[3] ?? ''));
  }
  const issuer = /<((?:[A-Za-z_][\w.-]*:)?)Issuer\b[^>]*>([^<]*)<\/\1Issuer>/.exec(xml);

  const id = attributes.get('ID');
  const destination = attributes.get('Destination');
  if (!id) throw new Error('AuthnRequest has no ID');
  if (!destination) throw new Error('AuthnRequest has no Destination');
  if (!issuer) throw new Error('AuthnRequest has no Issuer');
  return {
    id,
    destination,
    issuer: unescapeXml(issuer[2].trim()),
    acsUrl: attributes.get('AssertionConsumerServiceURL'),
    relayState: url.searchParams.get('RelayState') ?? undefined,
    xml,
  };
}
