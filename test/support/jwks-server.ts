import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import { type AddressInfo } from 'node:net';
import { type JWK } from 'jose';

/** One request the server received. */
export interface JwksRequest {
  method: string;
  path: string;
}

/**
 * A tiny JWKS endpoint on 127.0.0.1 for tests: it serves the keys you give it at any path, counts
 * every request (per path, too), and can answer late (latency longer than the client's timeout
 * makes it look hung) or swap its keys. It doubles as an attacker's server for `jku`/`x5u`
 * headers: a verifier that honoured them would show up in `hits()`.
 */
export interface JwksServer {
  /** Base URL, e.g. http://127.0.0.1:41234 */
  readonly url: string;
  /** Full URL of a JWKS document on this server (any path serves the key set). */
  jwksUri(path?: string): string;
  /** Requests received so far, in total or for one path. */
  hits(path?: string): number;
  /** Every request received, oldest first. */
  readonly requests: readonly JwksRequest[];
  /** Replaces the published keys (public JWKs). */
  setKeys(keys: JWK[]): void;
  /** Delays every following response by this many milliseconds (0: answer at once). */
  setLatency(ms: number): void;
  close(): Promise<void>;
}

export interface JwksServerOptions {
  keys?: JWK[];
  latencyMs?: number;
}

export async function startJwksServer(options: JwksServerOptions = {}): Promise<JwksServer> {
  let keys: JWK[] = options.keys ?? [];
  let latencyMs = options.latencyMs ?? 0;
  const requests: JwksRequest[] = [];
  const pending = new Set<NodeJS.Timeout>();

  const respond = (res: ServerResponse): void => {
    if (res.destroyed) return;
    const body = JSON.stringify({ keys });
    res.writeHead(200, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
      'cache-control': 'no-store',
    });
    res.end(body);
  };

  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    requests.push({ method: req.method ?? 'GET', path: (req.url ?? '/').split('?')[0] });
    if (latencyMs <= 0) return respond(res);
    const timer = setTimeout(() => {
      pending.delete(timer);
      respond(res);
    }, latencyMs);
    pending.add(timer);
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;

  return {
    url,
    requests,
    jwksUri: (path = '/jwks.json') => `${url}${path.startsWith('/') ? path : `/${path}`}`,
    hits: (path?: string) =>
      path === undefined ? requests.length : requests.filter((r) => r.path === path).length,
    setKeys: (next) => {
      keys = next;
    },
    setLatency: (ms) => {
      latencyMs = ms;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const timer of pending) clearTimeout(timer);
        pending.clear();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
