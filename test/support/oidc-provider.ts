import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import path from 'node:path';

/**
 * A real OpenID Connect provider (oidc-provider v9) on 127.0.0.1 for end-to-end tests.
 *
 * oidc-provider is ESM-only and Jest runs CommonJS here, so the provider runs in a child process
 * (oidc-provider-server.mjs) and this module talks to it over HTTP. What relying-party code sees:
 * - issuer is exactly `http://127.0.0.1:PORT` (no trailing slash); the RP must allow plain http
 *   (openid-client: `execute: [allowInsecureRequests]`);
 * - PKCE (S256) is required for every client; `state` and `nonce` are the RP's business;
 * - authorization responses carry `iss` (RFC 9207);
 * - scopes: `openid`, `email` (email, email_verified), `profile` (name, roles), `roles` (roles);
 *   the requested claims are in the ID token as well as at userinfo;
 * - the login step consents to everything the client asked for.
 */

export interface OidcAccount {
  sub: string;
  email: string;
  name?: string;
  roles?: string[];
  /** Defaults to true. */
  emailVerified?: boolean;
}

export interface OidcClientSpec {
  clientId: string;
  clientSecret: string;
  redirectUris: string[];
  /** Defaults to client_secret_basic. */
  tokenEndpointAuthMethod?: 'client_secret_basic' | 'client_secret_post';
}

export interface TestOidcProvider {
  /** http://127.0.0.1:PORT */
  issuer: string;
  /** Kills the child process. Safe to call more than once. */
  close(): Promise<void>;
  /**
   * Drives a browser-like login: GET authorizationUrl (follow redirects manually, keep cookies),
   * land on the interaction, POST the login for `accountId`, follow redirects until the provider
   * redirects to the client's redirect_uri; return that final URL (with ?code=&state=&iss=, or
   * ?error=) WITHOUT requesting it. Throws when the provider answers with an error page instead.
   */
  authorize(authorizationUrl: string, accountId: string): Promise<URL>;
}

export interface StartOidcProviderOptions {
  clients: OidcClientSpec[];
  accounts: OidcAccount[];
  /** Advertise this `issuer` in discovery instead of the real one (a misconfigured IdP). */
  discoveryIssuerOverride?: string;
}

const SERVER_SCRIPT = path.join(__dirname, 'oidc-provider-server.mjs');
const READY_TIMEOUT_MS = 15_000;
const KILL_GRACE_MS = 5_000;
const MAX_REDIRECTS = 20;
const STDERR_LIMIT = 64 * 1024;

const running = new Set<ChildProcessWithoutNullStreams>();
let exitHookInstalled = false;

/** Last resort if a test forgets close(): the children also exit when our stdin pipe closes. */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const child of running) child.kill('SIGKILL');
  });
}

export async function startOidcProvider(opts: StartOidcProviderOptions): Promise<TestOidcProvider> {
  const config = {
    clients: opts.clients.map((c) => {
      for (const uri of c.redirectUris) {
        if (new URL(uri).hostname !== '127.0.0.1') {
          throw new Error(`redirect URI must be on 127.0.0.1: ${uri}`);
        }
      }
      return {
        client_id: c.clientId,
        client_secret: c.clientSecret,
        redirect_uris: c.redirectUris,
        token_endpoint_auth_method: c.tokenEndpointAuthMethod ?? 'client_secret_basic',
      };
    }),
    accounts: opts.accounts.map((a) => ({
      sub: a.sub,
      email: a.email,
      email_verified: a.emailVerified ?? true,
      name: a.name,
      roles: a.roles ?? [],
    })),
    discoveryIssuerOverride: opts.discoveryIssuerOverride,
  };

  const child = spawn(process.execPath, [SERVER_SCRIPT], {
    env: { ...process.env, NODE_OPTIONS: '', OIDC_TEST_PROVIDER_CONFIG: JSON.stringify(config) },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  installExitHook();
  running.add(child);

  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-STDERR_LIMIT);
  });
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => {
      running.delete(child);
      resolve();
    });
  });

  let issuer: string;
  try {
    issuer = await waitForReady(child, () => stderr);
  } catch (err) {
    await kill(child, exited);
    throw err;
  }

  const redirectUris = opts.clients.flatMap((c) => c.redirectUris.map(withoutQuery));
  return {
    issuer,
    close: () => kill(child, exited),
    authorize: (authorizationUrl, accountId) =>
      driveLogin(issuer, redirectUris, authorizationUrl, accountId),
  };
}

function waitForReady(
  child: ChildProcessWithoutNullStreams,
  stderr: () => string,
): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    let buffered = '';
    const onData = (chunk: string): void => {
      buffered += chunk;
      let newline: number;
      while ((newline = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, newline).trim();
        buffered = buffered.slice(newline + 1);
        const ready = parseReadyLine(line);
        if (ready) {
          finish();
          resolve(ready);
          return;
        }
      }
    };
    const onExit = (code: number | null, signal: NodeJS.Signals | null): void => {
      finish();
      reject(
        new Error(
          `oidc-provider-server exited before it was ready (code ${code}, signal ${signal}):\n${stderr()}`,
        ),
      );
    };
    const onError = (err: Error): void => {
      finish();
      reject(new Error(`oidc-provider-server could not start: ${err.message}\n${stderr()}`));
    };
    const timer = setTimeout(() => {
      finish();
      reject(
        new Error(`oidc-provider-server not ready after ${READY_TIMEOUT_MS} ms:\n${stderr()}`),
      );
    }, READY_TIMEOUT_MS);
    const finish = (): void => {
      clearTimeout(timer);
      child.stdout.off('data', onData);
      child.off('exit', onExit);
      child.off('error', onError);
      // Keep draining stdout so the child never blocks on a full pipe.
      child.stdout.resume();
    };
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', onData);
    child.once('exit', onExit);
    child.once('error', onError);
  });
}

function parseReadyLine(line: string): string | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    const parsed = JSON.parse(line) as { ready?: unknown; issuer?: unknown };
    if (parsed.ready === true && typeof parsed.issuer === 'string') return parsed.issuer;
  } catch {
    // not our line
  }
  return undefined;
}

async function kill(child: ChildProcessWithoutNullStreams, exited: Promise<void>): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) {
    child.stdin.end();
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), KILL_GRACE_MS);
    await exited;
    clearTimeout(timer);
  }
  running.delete(child);
}

function withoutQuery(uri: string): string {
  const url = new URL(uri);
  return `${url.origin}${url.pathname}`;
}

/** Just enough of a cookie jar for one login: name=value per host, deletions honoured. */
class CookieJar {
  private readonly byHost = new Map<string, Map<string, string>>();

  store(url: URL, response: Response): void {
    for (const header of response.headers.getSetCookie()) {
      const [pair, ...attributes] = header.split(';');
      const eq = pair.indexOf('=');
      if (eq <= 0) continue;
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const jar = this.byHost.get(url.host) ?? new Map<string, string>();
      this.byHost.set(url.host, jar);
      if (value === '' || isExpired(attributes)) jar.delete(name);
      else jar.set(name, value);
    }
  }

  header(url: URL): string | undefined {
    const jar = this.byHost.get(url.host);
    if (!jar || jar.size === 0) return undefined;
    return [...jar].map(([name, value]) => `${name}=${value}`).join('; ');
  }
}

function isExpired(attributes: string[]): boolean {
  for (const attribute of attributes) {
    const eq = attribute.indexOf('=');
    const key = (eq < 0 ? attribute : attribute.slice(0, eq)).trim().toLowerCase();
    const value = eq < 0 ? '' : attribute.slice(eq + 1).trim();
    if (key === 'max-age' && Number(value) <= 0) return true;
    if (key === 'expires' && Date.parse(value) <= Date.now()) return true;
  }
  return false;
}

async function driveLogin(
  issuer: string,
  redirectUris: string[],
  authorizationUrl: string,
  accountId: string,
): Promise<URL> {
  const origin = new URL(issuer).origin;
  const jar = new CookieJar();
  let url = new URL(authorizationUrl);
  if (url.origin !== origin) {
    throw new Error(`authorization URL ${url.href} is not served by ${issuer}`);
  }

  const send = async (target: URL, init: RequestInit = {}): Promise<Response> => {
    const headers = new Headers(init.headers);
    const cookie = jar.header(target);
    if (cookie) headers.set('cookie', cookie);
    const response = await fetch(target, { ...init, headers, redirect: 'manual' });
    jar.store(target, response);
    return response;
  };

  let loggedIn = false;
  for (let hop = 0; hop < MAX_REDIRECTS; hop += 1) {
    let response = await send(url);
    const interaction = /^\/interaction\/([^/]+)$/.exec(url.pathname);
    if (interaction && response.status === 200 && !loggedIn) {
      await response.body?.cancel();
      loggedIn = true;
      response = await send(new URL(`${url.pathname}/login`, origin), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ accountId }),
      });
    }

    const location = response.headers.get('location');
    if (response.status < 300 || response.status >= 400 || !location) {
      const body = await response.text();
      throw new Error(
        `authorize: ${response.status} from ${url.pathname} instead of a redirect: ${body.slice(0, 500)}`,
      );
    }
    await response.body?.cancel();

    const next = new URL(location, url);
    if (redirectUris.includes(withoutQuery(next.href))) return next;
    if (next.origin !== origin) {
      throw new Error(
        `authorize: refusing to follow a redirect away from the provider: ${next.href}`,
      );
    }
    url = next;
  }
  throw new Error(`authorize: more than ${MAX_REDIRECTS} redirects`);
}
