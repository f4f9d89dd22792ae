import { generateKeyPair, randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { MemberRole } from '../../src/common/auth/roles';
import { type FishjamEmulator, startFishjamEmulator } from '../emulators/fishjam';
import { type LiveKitEmulator, startLiveKitEmulator } from '../emulators/livekit';
import { type OpenViduEmulator, startOpenViduEmulator } from '../emulators/openvidu';
import { type PexipEmulator, startPexipEmulator } from '../emulators/pexip';
import { type RecordedCall } from '../emulators/faults';
import {
  type SeededTenant,
  type SeededUser,
  seedApiKey,
  seedMember,
  seedTenant,
} from '../factories/tenancy';
import { type GqlResult, type TestApp, startTestApp } from './test-app';

/** The Agora token service's headers, on every answer of its routes (README "Vendor-compatible routes"). */
export const AGORA_NO_CACHE = {
  'cache-control': 'private, no-cache, no-store, must-revalidate',
  expires: '-1',
  pragma: 'no-cache',
};

export type Kind = 'OPENVIDU' | 'LIVEKIT' | 'PEXIP' | 'AGORA' | 'FISHJAM' | 'RED5';
export type HttpKind = 'OPENVIDU' | 'LIVEKIT' | 'PEXIP' | 'FISHJAM';
export const KINDS: Kind[] = ['OPENVIDU', 'LIVEKIT', 'PEXIP', 'AGORA', 'FISHJAM', 'RED5'];
export const HTTP_KINDS: HttpKind[] = ['OPENVIDU', 'LIVEKIT', 'PEXIP', 'FISHJAM'];

const generateKeyPairAsync = promisify(generateKeyPair);

/** The vendor secrets of one world: canaries that must only ever reach their emulator. */
export interface VendorSecrets {
  openvidu: string;
  openviduWebhook: string;
  livekitKey: string;
  livekitSecret: string;
  pexipClientId: string;
  pexipPrivateKey: string;
  pexipPublicKey: string;
  agoraAppId: string;
  agoraCertificate: string;
  fishjamToken: string;
}

/** A tenant of the world: its people, an API key and one default credential per vendor. */
export interface WorldTenant {
  tenant: SeededTenant;
  owner: SeededUser;
  admin: SeededUser;
  member: SeededUser;
  /** Basic header of an ADMIN API key and of a MEMBER API key. */
  adminKey: string;
  memberKey: string;
  creds: Record<Kind, string>;
}

/**
 * A running Roomkey, the four HTTP vendor emulators (real servers on 127.0.0.1) and tenants with
 * credentials for all six vendors, created through GraphQL as a tenant admin would.
 */
export interface VendorWorld {
  t: TestApp;
  ov: OpenViduEmulator;
  lk: LiveKitEmulator;
  px: PexipEmulator;
  fj: FishjamEmulator;
  secrets: VendorSecrets;
  a: WorldTenant;
  b: WorldTenant;
  /** Every call an HTTP emulator has received, by vendor. */
  calls(kind: HttpKind): RecordedCall[];
  totalCalls(): number;
  /** Clears recorded calls and armed faults on every emulator. */
  quiet(): void;
  close(): Promise<void>;
}

export async function startVendorWorld(env: Record<string, string> = {}): Promise<VendorWorld> {
  const tag = randomBytes(5).toString('hex');
  const [pexipKeys, t] = await Promise.all([
    generateKeyPairAsync('rsa', {
      modulusLength: 2048,
      publicKeyEncoding: { type: 'spki', format: 'pem' },
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    }),
    startTestApp({ ROOMKEY_PROVIDER_TIMEOUT_MS: '1000', ...env }),
  ]);
  const secrets: VendorSecrets = {
    openvidu: `CANARY-ov-${tag}`,
    openviduWebhook: `CANARY-ov-webhook-${tag}`,
    livekitKey: `APIkey${tag}`,
    livekitSecret: `CANARY-lk-${tag}-${randomBytes(8).toString('hex')}`,
    pexipClientId: `client-${tag}`,
    pexipPrivateKey: pexipKeys.privateKey,
    pexipPublicKey: pexipKeys.publicKey,
    agoraAppId: randomBytes(16).toString('hex'),
    agoraCertificate: randomBytes(16).toString('hex'),
    fishjamToken: `CANARY-fj-${tag}`,
  };
  const [ov, lk, px, fj] = await Promise.all([
    startOpenViduEmulator({
      secret: secrets.openvidu,
      webhookHeaders: { authorization: `Bearer ${secrets.openviduWebhook}` },
    }),
    startLiveKitEmulator({ apiKey: secrets.livekitKey, apiSecret: secrets.livekitSecret }),
    startPexipEmulator({ clientId: secrets.pexipClientId, publicKeyPem: secrets.pexipPublicKey }),
    startFishjamEmulator({ managementToken: secrets.fishjamToken }),
  ]);
  const byKind = { OPENVIDU: ov, LIVEKIT: lk, PEXIP: px, FISHJAM: fj };
  const world = { t, ov, lk, px, fj, secrets } as VendorWorld;
  world.calls = (kind) => byKind[kind].calls;
  world.totalCalls = () => HTTP_KINDS.reduce((n, k) => n + byKind[k].calls.length, 0);
  world.quiet = () => {
    for (const e of Object.values(byKind)) {
      e.calls.length = 0;
      e.faults.clear();
    }
  };
  world.close = async () => {
    await Promise.all([ov.close(), lk.close(), px.close(), fj.close()]);
    await t.close();
  };
  world.a = await seedWorldTenant(world);
  world.b = await seedWorldTenant(world);
  world.quiet();
  return world;
}

/** The six credential inputs, pointing at this world's emulators. */
export function credentialInputs(w: VendorWorld): Record<Kind, Record<string, unknown>> {
  const s = w.secrets;
  return {
    OPENVIDU: { openvidu: { url: w.ov.url, secret: s.openvidu, webhookSecret: s.openviduWebhook } },
    LIVEKIT: { livekit: { url: w.lk.url, apiKey: s.livekitKey, apiSecret: s.livekitSecret } },
    PEXIP: {
      pexip: { apiAddress: w.px.url, clientId: s.pexipClientId, privateKeyPem: s.pexipPrivateKey },
    },
    AGORA: { agora: { appId: s.agoraAppId, appCertificate: s.agoraCertificate } },
    FISHJAM: { fishjam: { fishjamUrl: w.fj.fishjamUrl, managementToken: s.fishjamToken } },
    RED5: { red5: { tokenTtlSeconds: 3600, allowedIps: [] } },
  };
}

async function seedWorldTenant(w: VendorWorld): Promise<WorldTenant> {
  const tenant = await seedTenant(w.t);
  const admin = await seedMember(w.t, tenant, MemberRole.ADMIN);
  const member = await seedMember(w.t, tenant, MemberRole.MEMBER);
  const adminKey = (await seedApiKey(w.t, tenant, MemberRole.ADMIN)).auth;
  const memberKey = (await seedApiKey(w.t, tenant, MemberRole.MEMBER)).auth;
  const inputs = credentialInputs(w);
  const creds = {} as Record<Kind, string>;
  for (const kind of KINDS) {
    const r = await w.t.gql<{ createProviderCredential: { id: string } }>(
      'mutation ($input: CreateProviderCredentialInput!) { createProviderCredential(input: $input) { id } }',
      { input: { name: `${kind.toLowerCase()}-default`, isDefault: true, ...inputs[kind] } },
      { auth: admin.auth },
    );
    if (r.body.errors) throw new Error(`credential ${kind}: ${JSON.stringify(r.body.errors)}`);
    creds[kind] = r.body.data!.createProviderCredential.id;
  }
  return { tenant, owner: tenant.owner, admin, member, adminKey, memberKey, creds };
}

/** GraphQL documents shared by the session specs. */
export const SESSION_FIELDS =
  'id provider credentialId externalId customSessionId name status options createdByType createdBy createdByLabel createdAt endedAt endReason';
export const CONNECTION_FIELDS = `id sessionId provider role identity displayName externalId status expiresAt revokedAt joinedAt leftAt createdByType createdBy createdAt
  credential {
    __typename
    ... on OpenViduCredential { token connectionId }
    ... on LiveKitCredential { token serverUrl identity room }
    ... on PexipCredential { apiAddress meetingId participantId participantSecret }
    ... on AgoraCredential { token appId channel uid userAccount rtmToken }
    ... on FishjamCredential { peerToken peerWebsocketUrl peerId roomId }
    ... on Red5Credential { streamId type username password token }
  }`;
export const CREATE_SESSION = `mutation ($input: CreateSessionInput!) { createSession(input: $input) { ${SESSION_FIELDS} } }`;
export const CREATE_CONNECTION = `mutation ($input: CreateConnectionInput!) { createConnection(input: $input) { ${CONNECTION_FIELDS} } }`;
export const END_SESSION = `mutation ($id: ID!) { endSession(id: $id) { ${SESSION_FIELDS} } }`;
export const REVOKE_CONNECTION = `mutation ($id: ID!) { revokeConnection(id: $id) { ${CONNECTION_FIELDS} } }`;

export interface SessionJson {
  id: string;
  provider: Kind;
  credentialId: string | null;
  externalId: string;
  customSessionId: string | null;
  name: string | null;
  status: 'ACTIVE' | 'ENDED';
  options: Record<string, unknown>;
  createdByType: string;
  createdBy: string | null;
  createdByLabel: string;
  createdAt: string;
  endedAt: string | null;
  endReason: string | null;
}

export interface ConnectionJson {
  id: string;
  sessionId: string;
  provider: Kind;
  role: 'SUBSCRIBER' | 'PUBLISHER' | 'MODERATOR';
  identity: string;
  displayName: string | null;
  externalId: string | null;
  status: 'ISSUED' | 'JOINED' | 'LEFT' | 'REVOKED';
  expiresAt: string | null;
  revokedAt: string | null;
  joinedAt: string | null;
  leftAt: string | null;
  createdByType: string;
  createdBy: string | null;
  createdAt: string;
  credential: (Record<string, unknown> & { __typename: string }) | null;
}

/** Runs a mutation that must succeed; fails the test with the GraphQL errors otherwise. */
export async function ok<T>(p: Promise<GqlResult<T>>): Promise<T> {
  const r = await p;
  if (r.body.errors || !r.body.data) {
    throw new Error(`GraphQL errors: ${JSON.stringify(r.body.errors ?? r.text)}`);
  }
  return r.body.data;
}

/** Row counts of the session tables (for "nothing changed" checks). */
export async function sessionCounts(
  t: TestApp,
): Promise<{ sessions: number; connections: number }> {
  const [row] = await t.ds.query<Array<{ sessions: number; connections: number }>>(
    `SELECT (SELECT count(*) FROM video_session)::int AS sessions,
            (SELECT count(*) FROM session_connection)::int AS connections`,
  );
  return row;
}
