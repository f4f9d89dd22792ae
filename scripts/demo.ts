/**
 * `npm run demo`: Roomkey on the embedded database (in memory) together with the vendor emulators
 * of test/emulators (OpenVidu 2, LiveKit, Pexip VPaaS, Fishjam; Agora and Red5 need no server),
 * a tenant with a credential for every vendor, and ready-to-run curl commands that mint a join
 * credential for each vendor through GraphQL and through the vendor-compatible routes.
 *
 * Everything listens on 127.0.0.1 only. `runDemo()` is also driven by the test suite, which runs
 * every printed command.
 */
import 'reflect-metadata';
import { generateKeyPair, randomBytes } from 'node:crypto';
import { type Server } from 'node:http';
import { type AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { type INestApplication } from '@nestjs/common';
import { ApiKeysService } from '../src/api-keys/api-keys.service';
import { createApp } from '../src/app.factory';
import { MemberRole } from '../src/common/auth/roles';
import { loadConfig } from '../src/common/config';
import { RequestContext } from '../src/common/context';
import { TenantsService } from '../src/tenants/tenants.service';
import { startFishjamEmulator } from '../test/emulators/fishjam';
import { startLiveKitEmulator } from '../test/emulators/livekit';
import { startOpenViduEmulator } from '../test/emulators/openvidu';
import { startPexipEmulator } from '../test/emulators/pexip';

/** One request the demo prints as curl (and the test suite sends). */
export interface DemoCommand {
  title: string;
  method: 'GET' | 'POST';
  url: string;
  /** HTTP Basic user:password (the demo API key). */
  basic?: string;
  json?: unknown;
}

export interface Demo {
  url: string;
  tenant: string;
  apiKey: string;
  commands: DemoCommand[];
  close(): Promise<void>;
}

const generateKeyPairAsync = promisify(generateKeyPair);

/** Each vendor's join-credential fields, for GraphQL `createConnection`. */
const VENDORS = {
  OPENVIDU: ['OpenVidu 2', 'OpenViduCredential { token connectionId }'],
  LIVEKIT: ['OpenVidu 3 / LiveKit', 'LiveKitCredential { token serverUrl identity room }'],
  PEXIP: [
    'Pexip VPaaS',
    'PexipCredential { apiAddress meetingId participantId participantSecret }',
  ],
  AGORA: ['Agora', 'AgoraCredential { token appId channel uid userAccount }'],
  FISHJAM: ['Fishjam', 'FishjamCredential { peerToken peerWebsocketUrl peerId roomId }'],
  RED5: ['Red5 Pro', 'Red5Credential { streamId type username password token }'],
} as const;

export interface DemoOptions {
  port?: number;
  quiet?: boolean;
  /** A PostgreSQL URL instead of the embedded database (benchmarks). */
  databaseUrl?: string;
  /** Extra configuration (benchmarks raise the rate limits they are not measuring). */
  env?: Record<string, string>;
}

export async function runDemo(options: DemoOptions = {}): Promise<Demo> {
  const secrets = {
    openvidu: `demo-${randomBytes(8).toString('hex')}`,
    livekitKey: 'demokey',
    livekitSecret: randomBytes(24).toString('base64url'),
    pexipClientId: 'demo-client',
    fishjamToken: randomBytes(16).toString('hex'),
    agoraAppId: randomBytes(16).toString('hex'),
    agoraCertificate: randomBytes(16).toString('hex'),
  };
  const pexipKeys = await generateKeyPairAsync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  const [ov, lk, px, fj] = await Promise.all([
    startOpenViduEmulator({ secret: secrets.openvidu }),
    startLiveKitEmulator({ apiKey: secrets.livekitKey, apiSecret: secrets.livekitSecret }),
    startPexipEmulator({ clientId: secrets.pexipClientId, publicKeyPem: pexipKeys.publicKey }),
    startFishjamEmulator({ managementToken: secrets.fishjamToken }),
  ]);
  let app: INestApplication | undefined;
  const close = async (): Promise<void> => {
    await app?.close();
    await Promise.all([ov.close(), lk.close(), px.close(), fj.close()]);
  };
  try {
    const config = loadConfig({
      NODE_ENV: 'development',
      ROOMKEY_DATA_DIR: 'memory://',
      LOG_LEVEL: options.quiet ? 'silent' : 'error',
      ROOMKEY_BOOTSTRAP_TENANT: 'demo',
      ...(options.databaseUrl ? { DATABASE_URL: options.databaseUrl } : {}),
      ...options.env,
    });
    app = await createApp(config, { bannerOut: () => undefined });
    await app.listen(options.port ?? 0, '127.0.0.1');
    const { port } = (app.getHttpServer() as Server).address() as AddressInfo;
    const url = `http://127.0.0.1:${port}`;

    const tenant = await app.get(TenantsService).findBySlug('demo');
    if (!tenant) throw new Error('the first start did not create the demo tenant');
    const { apiKey, secret } = await app.get(ApiKeysService).create(RequestContext.system(tenant), {
      name: 'demo',
      role: MemberRole.ADMIN,
      expiresAt: null,
    });
    const basic = `${apiKey.keyId}:${secret}`;
    const gql = async <T>(query: string, variables: Record<string, unknown> = {}): Promise<T> => {
      const res = await fetch(`${url}/graphql`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: `Basic ${Buffer.from(basic).toString('base64')}`,
        },
        body: JSON.stringify({ query, variables }),
      });
      const body = (await res.json()) as { data?: T; errors?: unknown };
      if (body.errors || !body.data)
        throw new Error(`demo setup failed: ${JSON.stringify(body.errors)}`);
      return body.data;
    };

    const inputs: Record<string, Record<string, unknown>> = {
      openvidu: { url: ov.url, secret: secrets.openvidu },
      livekit: { url: lk.url, apiKey: secrets.livekitKey, apiSecret: secrets.livekitSecret },
      pexip: {
        apiAddress: px.url,
        clientId: secrets.pexipClientId,
        privateKeyPem: pexipKeys.privateKey,
      },
      agora: { appId: secrets.agoraAppId, appCertificate: secrets.agoraCertificate },
      fishjam: { fishjamUrl: fj.fishjamUrl, managementToken: secrets.fishjamToken },
      red5: { tokenTtlSeconds: 3600, allowedIps: [] },
    };
    for (const [block, input] of Object.entries(inputs)) {
      await gql(
        'mutation ($input: CreateProviderCredentialInput!) { createProviderCredential(input: $input) { id } }',
        { input: { name: `${block}-demo`, isDefault: true, [block]: input } },
      );
    }

    // One session per vendor, so each createConnection command below is ready to run.
    const kinds = Object.keys(VENDORS) as Array<keyof typeof VENDORS>;
    const sessionIds: Record<string, string> = {};
    for (const kind of kinds) {
      const { createSession } = await gql<{ createSession: { id: string } }>(
        'mutation ($input: CreateSessionInput!) { createSession(input: $input) { id } }',
        { input: { provider: kind, customSessionId: `demo-${kind.toLowerCase()}` } },
      );
      sessionIds[kind] = createSession.id;
    }

    const graphql = (title: string, query: string): DemoCommand => ({
      title,
      method: 'POST',
      url: `${url}/graphql`,
      basic,
      json: { query },
    });
    const t = `${url}/t/demo`;
    const commands: DemoCommand[] = [
      graphql(
        'GraphQL: create (or get) a LiveKit session by its customSessionId',
        'mutation { createSession(input: {provider: LIVEKIT, customSessionId: "demo-livekit"}) { id provider externalId status } }',
      ),
      ...kinds.map((kind) =>
        graphql(
          `GraphQL: a ${VENDORS[kind][0]} join credential`,
          `mutation { createConnection(input: {sessionId: "${sessionIds[kind]}", role: PUBLISHER${kind === 'AGORA' ? ', agora: {uid: 42}' : ''}}) { id role expiresAt credential { ... on ${VENDORS[kind][1]} } } }`,
        ),
      ),
      graphql(
        'GraphQL: the sessions so far',
        '{ sessions(first: 10) { nodes { id provider externalId status connections { id role status } } } }',
      ),
      {
        title: 'OpenVidu 2 sample: create a session (id as text)',
        method: 'POST',
        url: `${t}/openvidu/api/sessions`,
        basic,
        json: { customSessionId: 'demo-room' },
      },
      {
        title: 'OpenVidu 2 sample: a connection token (text)',
        method: 'POST',
        url: `${t}/openvidu/api/sessions/demo-room/connections`,
        basic,
        json: { role: 'PUBLISHER' },
      },
      {
        title: 'OpenVidu 3 / LiveKit sample: a token',
        method: 'POST',
        url: `${t}/livekit/token`,
        basic,
        json: { roomName: 'demo-room', participantName: 'alice' },
      },
      {
        title: 'Pexip VPaaS tutorial: the API address',
        method: 'GET',
        url: `${t}/pexip/api-address`,
        basic,
      },
      {
        title: 'Pexip VPaaS tutorial: a meeting',
        method: 'POST',
        url: `${t}/pexip/meetings`,
        basic,
      },
      {
        title: 'Agora token service: an RTC token (publisher, uid 42, 10 minutes)',
        method: 'GET',
        url: `${t}/agora/rtc/demo-room/publisher/uid/42/?expiry=600`,
        basic,
      },
      {
        title: 'Agora token service: POST /getToken',
        method: 'POST',
        url: `${t}/agora/getToken`,
        basic,
        json: { tokenType: 'rtc', channel: 'demo-room', role: 'subscriber', uid: '7', expire: 600 },
      },
      {
        title: 'Fishjam room manager: a peer token',
        method: 'GET',
        url: `${t}/fishjam/room-manager?roomName=demo-room&peerName=alice`,
        basic,
      },
    ];
    if (!options.quiet) printDemo(url, basic, commands);
    return { url, tenant: 'demo', apiKey: basic, commands, close };
  } catch (err) {
    await close();
    throw err;
  }
}

/** A command as a copy-paste curl line. */
export function toCurl(c: DemoCommand): string {
  const q = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
  const parts = ['curl -s'];
  if (c.method !== 'GET') parts.push(`-X ${c.method}`);
  if (c.basic) parts.push(`-u ${q(c.basic)}`);
  if (c.json !== undefined)
    parts.push(`-H 'content-type: application/json' -d ${q(JSON.stringify(c.json))}`);
  parts.push(q(c.url));
  return parts.join(' ');
}

function printDemo(url: string, basic: string, commands: DemoCommand[]): void {
  const lines = [
    '',
    '================ Roomkey demo ================',
    ` Roomkey:  ${url}  (GraphQL IDE: ${url}/graphql)`,
    ' Tenant:   demo, with a credential for every vendor (emulated on 127.0.0.1)',
    ` API key:  ${basic}`,
    '',
    ...commands.flatMap((c) => [`# ${c.title}`, toCurl(c), '']),
    'Press Ctrl-C to stop.',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

if (require.main === module) {
  runDemo({ port: Number(process.env.PORT ?? 3000) }).then(
    (demo) => {
      const stop = (): void => {
        void demo.close().then(() => process.exit(0));
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    },
    (err: unknown) => {
      process.stderr.write(
        `demo failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
      );
      process.exit(1);
    },
  );
}
