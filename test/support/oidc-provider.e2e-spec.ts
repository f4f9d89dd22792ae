import * as client from 'openid-client';
import { type OidcAccount, type TestOidcProvider, startOidcProvider } from './oidc-provider';

const REDIRECT_URI = 'http://127.0.0.1:39999/auth/oidc/callback';
const ALICE: OidcAccount = {
  sub: 'alice-sub',
  email: 'alice@idp.test',
  name: 'Alice Example',
  roles: ['admin', 'viewer'],
};

interface Login {
  url: URL;
  codeVerifier: string;
  state: string;
  nonce: string;
}

async function discover(
  issuer: string,
  clientId = 'roomkey',
  auth: client.ClientAuth = client.ClientSecretBasic('roomkey-secret'),
): Promise<client.Configuration> {
  return client.discovery(new URL(issuer), clientId, undefined, auth, {
    execute: [client.allowInsecureRequests],
  });
}

async function loginUrl(
  config: client.Configuration,
  scope = 'openid email profile',
): Promise<Login> {
  const codeVerifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: REDIRECT_URI,
    scope,
    code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: 'S256',
    state,
    nonce,
  });
  return { url, codeVerifier, state, nonce };
}

describe('test OIDC provider harness', () => {
  let idp: TestOidcProvider;

  beforeAll(async () => {
    idp = await startOidcProvider({
      clients: [
        { clientId: 'roomkey', clientSecret: 'roomkey-secret', redirectUris: [REDIRECT_URI] },
        {
          clientId: 'roomkey-post',
          clientSecret: 'roomkey-post-secret',
          redirectUris: [REDIRECT_URI],
          tokenEndpointAuthMethod: 'client_secret_post',
        },
      ],
      accounts: [ALICE, { sub: 'bob-sub', email: 'bob@idp.test', emailVerified: false }],
    });
  });

  afterAll(async () => {
    await idp?.close();
  });

  it('should serve an http issuer on 127.0.0.1 without a trailing slash when started', () => {
    expect(idp.issuer).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it('should issue an ID token with sub, email, roles and nonce when an account signs in with PKCE', async () => {
    const config = await discover(idp.issuer);
    const login = await loginUrl(config);

    const callback = await idp.authorize(login.url.href, ALICE.sub);

    expect(`${callback.origin}${callback.pathname}`).toBe(REDIRECT_URI);
    expect(callback.searchParams.get('state')).toBe(login.state);
    expect(callback.searchParams.get('iss')).toBe(idp.issuer);
    expect(callback.searchParams.get('code')).toEqual(expect.any(String));

    const tokens = await client.authorizationCodeGrant(config, callback, {
      pkceCodeVerifier: login.codeVerifier,
      expectedState: login.state,
      expectedNonce: login.nonce,
      idTokenExpected: true,
    });
    const claims = tokens.claims();
    expect(claims).toMatchObject({
      iss: idp.issuer,
      aud: 'roomkey',
      sub: ALICE.sub,
      email: ALICE.email,
      email_verified: true,
      name: ALICE.name,
      roles: ['admin', 'viewer'],
      nonce: login.nonce,
    });

    const userinfo = await client.fetchUserInfo(config, tokens.access_token, ALICE.sub);
    expect(userinfo).toMatchObject({ sub: ALICE.sub, email: ALICE.email, roles: ALICE.roles });
  });

  it('should authenticate the client at the token endpoint when it is registered for client_secret_post', async () => {
    const config = await discover(
      idp.issuer,
      'roomkey-post',
      client.ClientSecretPost('roomkey-post-secret'),
    );
    const login = await loginUrl(config, 'openid email');

    const callback = await idp.authorize(login.url.href, 'bob-sub');
    const tokens = await client.authorizationCodeGrant(config, callback, {
      pkceCodeVerifier: login.codeVerifier,
      expectedState: login.state,
      expectedNonce: login.nonce,
      idTokenExpected: true,
    });

    const claims = tokens.claims();
    expect(claims).toMatchObject({ sub: 'bob-sub', email: 'bob@idp.test', email_verified: false });
    // `roles` and `name` come with the profile (or roles) scope only.
    expect(claims).not.toHaveProperty('roles');
    expect(claims).not.toHaveProperty('name');
  });

  it('should reject the code exchange when the client secret is wrong', async () => {
    const config = await discover(
      idp.issuer,
      'roomkey',
      client.ClientSecretBasic('not-the-secret'),
    );
    const login = await loginUrl(config);
    const callback = await idp.authorize(login.url.href, ALICE.sub);

    await expect(
      client.authorizationCodeGrant(config, callback, {
        pkceCodeVerifier: login.codeVerifier,
        expectedState: login.state,
        expectedNonce: login.nonce,
      }),
    ).rejects.toMatchObject({
      // With HTTP Basic the provider answers 401 + WWW-Authenticate, not a JSON error body.
      name: 'WWWAuthenticateChallengeError',
      status: 401,
      cause: [
        expect.objectContaining({
          parameters: expect.objectContaining({ error: 'invalid_client' }),
        }),
      ],
    });
  });

  it('should redirect back with an error when the authorization request has no PKCE challenge', async () => {
    const config = await discover(idp.issuer);
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT_URI,
      scope: 'openid',
      state: 'no-pkce',
    });

    const callback = await idp.authorize(url.href, ALICE.sub);

    expect(callback.searchParams.get('error')).toBe('invalid_request');
    expect(callback.searchParams.get('error_description')).toMatch(/PKCE/);
    expect(callback.searchParams.get('state')).toBe('no-pkce');
  });

  it('should throw when the account to sign in as is unknown', async () => {
    const config = await discover(idp.issuer);
    const login = await loginUrl(config);

    await expect(idp.authorize(login.url.href, 'mallory')).rejects.toThrow(/unknown_account/);
  });

  it('should reject a code whose PKCE verifier does not match when exchanged', async () => {
    const config = await discover(idp.issuer);
    const login = await loginUrl(config);
    const callback = await idp.authorize(login.url.href, ALICE.sub);

    await expect(
      client.authorizationCodeGrant(config, callback, {
        pkceCodeVerifier: client.randomPKCECodeVerifier(),
        expectedState: login.state,
        expectedNonce: login.nonce,
      }),
    ).rejects.toMatchObject({ error: 'invalid_grant' });
  });

  describe('with a second provider running', () => {
    let other: TestOidcProvider;

    beforeAll(async () => {
      other = await startOidcProvider({
        clients: [
          { clientId: 'roomkey', clientSecret: 'roomkey-secret', redirectUris: [REDIRECT_URI] },
        ],
        accounts: [ALICE],
      });
    });

    afterAll(async () => {
      await other?.close();
    });

    it('should have its own issuer when two providers run at the same time', async () => {
      expect(other.issuer).not.toBe(idp.issuer);
      const [a, b] = await Promise.all([discover(idp.issuer), discover(other.issuer)]);
      expect(a.serverMetadata().issuer).toBe(idp.issuer);
      expect(b.serverMetadata().issuer).toBe(other.issuer);
    });

    it('should reject the authorization response when it comes from the other tenant IdP', async () => {
      const expected = await discover(idp.issuer);
      const otherConfig = await discover(other.issuer);
      const login = await loginUrl(otherConfig);

      // The browser came back from the second IdP, but the RP expects the first one.
      const callback = await other.authorize(login.url.href, ALICE.sub);
      expect(callback.searchParams.get('iss')).toBe(other.issuer);

      await expect(
        client.authorizationCodeGrant(expected, callback, {
          pkceCodeVerifier: login.codeVerifier,
          expectedState: login.state,
          expectedNonce: login.nonce,
        }),
      ).rejects.toMatchObject({
        code: 'OAUTH_INVALID_RESPONSE',
        cause: expect.objectContaining({ message: expect.stringMatching(/"iss"/) }),
      });
    });
  });

  describe('with discoveryIssuerOverride', () => {
    let liar: TestOidcProvider;

    beforeAll(async () => {
      liar = await startOidcProvider({
        clients: [
          { clientId: 'roomkey', clientSecret: 'roomkey-secret', redirectUris: [REDIRECT_URI] },
        ],
        accounts: [ALICE],
        discoveryIssuerOverride: 'http://127.0.0.1:1',
      });
    });

    afterAll(async () => {
      await liar?.close();
    });

    it('should advertise the overridden issuer in discovery when the option is set', async () => {
      const response = await fetch(`${liar.issuer}/.well-known/openid-configuration`);
      const metadata = (await response.json()) as { issuer: string; token_endpoint: string };

      expect(metadata.issuer).toBe('http://127.0.0.1:1');
      expect(metadata.token_endpoint).toBe(`${liar.issuer}/token`);
    });

    it('should make openid-client discovery fail when the advertised issuer does not match', async () => {
      await expect(discover(liar.issuer)).rejects.toMatchObject({
        code: 'OAUTH_JSON_ATTRIBUTE_COMPARISON_FAILED',
      });
    });
  });

  it('should stop answering when closed', async () => {
    const extra = await startOidcProvider({
      clients: [{ clientId: 'c', clientSecret: 's', redirectUris: [REDIRECT_URI] }],
      accounts: [ALICE],
    });
    const discoveryUrl = `${extra.issuer}/.well-known/openid-configuration`;
    expect((await fetch(discoveryUrl)).status).toBe(200);

    await extra.close();
    await extra.close();

    await expect(fetch(discoveryUrl)).rejects.toThrow();
  });
});
