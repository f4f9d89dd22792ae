// A real OpenID Connect provider (oidc-provider v9) for end-to-end tests, run as a CHILD PROCESS:
// oidc-provider is ESM-only and Jest runs CommonJS here, so test/support/oidc-provider.ts spawns
// `node test/support/oidc-provider-server.mjs` and talks to it over HTTP on 127.0.0.1 only.
//
// Configuration: a JSON string as the first argument, or in OIDC_TEST_PROVIDER_CONFIG:
//   {
//     "port": 0,                                 // optional; 0 (default) = random free port
//     "clients": [{ "client_id", "client_secret", "redirect_uris": [...],
//                   "token_endpoint_auth_method": "client_secret_basic" | "client_secret_post" }],
//     "accounts": [{ "sub", "email", "email_verified", "name", "roles": [...] }],
//     "discoveryIssuerOverride": "http://..."    // optional; advertised as `issuer` in discovery
//   }
// When listening it prints ONE line to stdout: {"ready":true,"issuer":"http://127.0.0.1:PORT"}.
// Everything else (oidc-provider notices included) goes to stderr. The server exits when its stdin
// closes (so it dies with its parent): run it by hand as `sleep 1d | node oidc-provider-server.mjs`.
//
// Interaction endpoints (devInteractions is disabled; the test harness drives these):
//   GET  /interaction/:uid        -> 200 JSON { uid, prompt } (nothing a browser could use)
//   POST /interaction/:uid/login  -> body { accountId } as JSON or form; logs in AND consents to
//                                    the requested scope in one step, then 303 back to /auth/:uid.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import Provider, { errors } from 'oidc-provider';

const HOST = '127.0.0.1';
/** Claims released per scope. `roles` is a custom claim, released with `profile` or `roles`. */
const CLAIMS = {
  openid: ['sub'],
  email: ['email', 'email_verified'],
  profile: ['name', 'roles'],
  roles: ['roles'],
};
const CUSTOM_CLAIMS = ['roles'];
const MAX_BODY_BYTES = 64 * 1024;

// oidc-provider prints its NOTICEs with console.info (stdout); keep stdout for the ready line only.
console.info = console.error;
console.log = console.error;

function fail(message) {
  console.error(`oidc-provider-server: ${message}`);
  process.exit(2);
}

function readConfig() {
  const raw = process.argv[2] ?? process.env.OIDC_TEST_PROVIDER_CONFIG;
  if (!raw) fail('missing configuration (argument or OIDC_TEST_PROVIDER_CONFIG)');
  let config;
  try {
    config = JSON.parse(raw);
  } catch (err) {
    fail(`configuration is not JSON: ${err.message}`);
  }
  if (!config || typeof config !== 'object') fail('configuration must be a JSON object');
  if (!Array.isArray(config.clients) || config.clients.length === 0) {
    fail('configuration.clients must be a non-empty array');
  }
  if (!Array.isArray(config.accounts)) fail('configuration.accounts must be an array');
  return config;
}

function toClientMetadata(client) {
  const method = client.token_endpoint_auth_method ?? 'client_secret_basic';
  if (method !== 'client_secret_basic' && method !== 'client_secret_post') {
    fail(`client ${client.client_id}: unsupported token_endpoint_auth_method ${method}`);
  }
  return {
    client_id: client.client_id,
    client_secret: client.client_secret,
    redirect_uris: client.redirect_uris,
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: method,
    // 'web' (the default) accepts http:// redirect URIs for the code flow; it is only implicit
    // web clients that oidc-provider restricts to https.
    application_type: 'web',
  };
}

function buildConfiguration(config, accounts) {
  const signingKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({
    format: 'jwk',
  });
  return {
    clients: config.clients.map(toClientMetadata),
    jwks: { keys: [{ ...signingKey, kid: `test-${randomBytes(4).toString('hex')}`, use: 'sig' }] },
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    claims: CLAIMS,
    // Scope-requested claims (email, name, roles) go into the ID token too, not only userinfo.
    // With the default (true) a code-flow ID token carries little more than `sub`.
    conformIdTokenClaims: false,
    pkce: { required: () => true },
    features: {
      devInteractions: { enabled: false },
      rpInitiatedLogout: { enabled: false },
    },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    async findAccount(_ctx, sub) {
      const account = accounts.get(sub);
      if (!account) return undefined;
      return {
        accountId: account.sub,
        async claims() {
          return {
            sub: account.sub,
            email: account.email,
            email_verified: account.email_verified ?? true,
            name: account.name,
            roles: account.roles ?? [],
          };
        },
      };
    },
    async renderError(ctx, out) {
      ctx.type = 'json';
      ctx.body = out;
    },
    ttl: {
      AccessToken: 600,
      AuthorizationCode: 60,
      IdToken: 600,
      Interaction: 600,
      Session: 600,
      Grant: 600,
    },
  };
}

function sendJson(res, status, body) {
  const text = JSON.stringify(body);
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('Content-Length', Buffer.byteLength(text));
  res.end(text);
}

async function readBody(req) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new Error('request body too large');
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  const type = String(req.headers['content-type'] ?? '');
  if (type.includes('application/json')) return text ? JSON.parse(text) : {};
  return Object.fromEntries(new URLSearchParams(text));
}

function interactionRoutes(provider, accounts) {
  async function show(req, res, uid) {
    const details = await provider.interactionDetails(req, res);
    if (details.uid !== uid) return sendJson(res, 400, { error: 'interaction_mismatch' });
    return sendJson(res, 200, { uid: details.uid, prompt: details.prompt.name });
  }

  async function login(req, res, uid) {
    const body = await readBody(req);
    const accountId = typeof body.accountId === 'string' ? body.accountId : '';
    if (!accounts.has(accountId)) {
      return sendJson(res, 400, {
        error: 'unknown_account',
        error_description: `no account ${JSON.stringify(accountId)}`,
      });
    }
    const details = await provider.interactionDetails(req, res);
    if (details.uid !== uid) return sendJson(res, 400, { error: 'interaction_mismatch' });
    const { prompt, params, session } = details;
    if (prompt.name !== 'login' && session?.accountId && session.accountId !== accountId) {
      return sendJson(res, 400, { error: 'session_belongs_to_another_account' });
    }

    // Consent in the same step: a Grant for exactly what the client asked for.
    let grant;
    if (details.grantId) {
      grant = await provider.Grant.find(details.grantId);
    }
    grant ??= new provider.Grant({ accountId, clientId: params.client_id });
    grant.addOIDCScope(typeof params.scope === 'string' ? params.scope : 'openid');
    grant.addOIDCClaims([...CUSTOM_CLAIMS, ...(prompt.details?.missingOIDCClaims ?? [])]);
    const grantId = await grant.save();

    const result = { login: { accountId }, consent: { grantId } };
    return provider.interactionFinished(req, res, result, { mergeWithLastSubmission: false });
  }

  return async function handle(req, res) {
    const url = new URL(req.url ?? '/', `http://${HOST}`);
    const match = /^\/interaction\/([^/]+)(\/login)?$/.exec(url.pathname);
    if (!match) return false;
    const [, uid, isLogin] = match;
    try {
      res.setHeader('Cache-Control', 'no-store');
      if (!isLogin && req.method === 'GET') await show(req, res, uid);
      else if (isLogin && req.method === 'POST') await login(req, res, uid);
      else sendJson(res, 405, { error: 'method_not_allowed' });
    } catch (err) {
      if (!res.headersSent) {
        const status = err instanceof errors.OIDCProviderError ? err.statusCode : 500;
        sendJson(res, status, { error: err.name, error_description: err.message });
      } else {
        res.destroy(err);
      }
    }
    return true;
  };
}

async function main() {
  const config = readConfig();
  const accounts = new Map(config.accounts.map((account) => [account.sub, account]));

  let handler = (_req, res) => sendJson(res, 503, { error: 'starting' });
  const server = createServer((req, res) => handler(req, res));
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: HOST, port: Number(config.port ?? 0) }, resolve);
  });
  const { port } = server.address();
  const issuer = `http://${HOST}:${port}`;

  const provider = new Provider(issuer, buildConfiguration(config, accounts));

  const override = config.discoveryIssuerOverride;
  if (override !== undefined) {
    // Discovery's `issuer` is always the Provider's own; oidc-provider offers no setting to change
    // it, so rewrite the response body on the way out (a deliberate misconfiguration for tests).
    provider.use(async (ctx, next) => {
      await next();
      if (ctx.path === '/.well-known/openid-configuration' && ctx.body && ctx.status === 200) {
        ctx.body = { ...ctx.body, issuer: override };
      }
    });
  }
  provider.on('server_error', (_ctx, err) => console.error('oidc-provider server_error', err));

  const interactions = interactionRoutes(provider, accounts);
  const callback = provider.callback();
  handler = (req, res) => {
    interactions(req, res)
      .then((handled) => {
        if (!handled) callback(req, res);
      })
      .catch((err) => {
        console.error('oidc-provider-server: unhandled', err);
        if (!res.headersSent) sendJson(res, 500, { error: 'server_error' });
      });
  };

  const shutdown = () => {
    server.close();
    server.closeAllConnections();
    process.exit(0);
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
  // The parent holds our stdin open; when it goes away (even by SIGKILL), so do we: no orphans.
  process.stdin.on('end', shutdown);
  process.stdin.on('close', shutdown);
  process.stdin.resume();

  process.stdout.write(`${JSON.stringify({ ready: true, issuer })}\n`);
}

main().catch((err) => fail(err?.stack ?? String(err)));
