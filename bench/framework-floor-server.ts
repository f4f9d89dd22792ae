/**
 * A server of `npm run bench:floor`, in its own process (the parent pins it to one core): the
 * Agora sample's RTC handler (bench/agora-rtc.ts) on the stack named by FLOOR_SERVER —
 * `nest-express`, `nest-fastify` (bench/framework-floor-nest.ts), `node-http` (below), or behind
 * a GraphQL mutation: `apollo-express`, `nest-apollo`, `nest-apollo-guarded`
 * (bench/framework-floor-graphql.ts) — with
 * APP_ID and APP_CERTIFICATE from the environment. The Express 5 baseline is bench/agora-sample.ts
 * itself. Listens on 127.0.0.1 (ephemeral port) and reports the port to its parent over IPC (see
 * serveForParent); only the chosen stack is loaded.
 */
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import { NO_CACHE, type RtcAnswer, type RtcParams, rtcAnswer } from './agora-rtc';
import { serveForParent } from './bench-processes';

const RTC_ROUTE = /^\/rtc\/([^/]+)\/([^/]+)\/([^/]+)\/([^/]+)\/?$/;

function send(res: ServerResponse, { status, body }: RtcAnswer | { status: 404; body: object }) {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    ...NO_CACHE,
  });
  res.end(text);
}

/** Plain `node:http`: the route matched by one regular expression, the query by URLSearchParams. */
function nodeHttp(appId: string, appCertificate: string): Promise<Server> {
  const notFound = { status: 404 as const, body: { message: 'Not Found' } };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const m = req.method === 'GET' ? RTC_ROUTE.exec(q < 0 ? url : url.slice(0, q)) : null;
    if (!m) return send(res, notFound);
    let params: RtcParams;
    try {
      const [channelName, role, tokenType, uid] = m.slice(1).map(decodeURIComponent);
      params = { channelName, role, tokenType, uid };
    } catch {
      return send(res, { status: 400, body: { message: 'Bad Request' } });
    }
    const expiry = new URLSearchParams(q < 0 ? '' : url.slice(q + 1)).getAll('expiry');
    // As Express's query parser: one value is a string, a repeated key an array.
    send(res, rtcAnswer(appId, appCertificate, params, expiry.length > 1 ? expiry : expiry[0]));
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

async function main(): Promise<void> {
  const kind = process.env.FLOOR_SERVER;
  const appId = process.env.APP_ID;
  const appCertificate = process.env.APP_CERTIFICATE;
  if (!appId || !appCertificate) throw new Error('set APP_ID and APP_CERTIFICATE');
  let server: Server;
  if (kind === 'node-http') {
    server = await nodeHttp(appId, appCertificate);
  } else if (kind === 'nest-express' || kind === 'nest-fastify') {
    const { startNest } = await import('./framework-floor-nest');
    server = (await startNest(kind, appId, appCertificate)).getHttpServer() as Server;
  } else if (kind === 'apollo-express') {
    const { startApolloExpress } = await import('./framework-floor-graphql');
    server = await startApolloExpress(appId, appCertificate);
  } else if (kind === 'nest-apollo' || kind === 'nest-apollo-guarded') {
    const { startNestApollo } = await import('./framework-floor-graphql');
    server = (await startNestApollo(kind, appId, appCertificate)).getHttpServer() as Server;
  } else {
    throw new Error(
      `FLOOR_SERVER must be nest-express, nest-fastify, node-http, apollo-express, nest-apollo or nest-apollo-guarded, not ${kind}`,
    );
  }
  serveForParent(`${kind} floor server`, server);
}

main().catch((err: unknown) => {
  process.stderr.write(
    `framework-floor-server failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  process.exit(1);
});
