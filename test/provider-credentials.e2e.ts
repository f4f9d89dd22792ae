/**
 * The vendor-credential vault over GraphQL (docs/decisions.md#issue-5; docs/security.md S6, S9 and S10), on the real
 * database: all six vendors stored and tested against their emulators (real HTTP on 127.0.0.1),
 * input validation that stores nothing and calls no vendor, the default flag, update and delete,
 * roles, tenant isolation, encryption at rest (AAD binding, `keys:rotate` through the CLI) and
 * canary secrets that must never come back in a response, a log line, an audit event or a row.
 */
import { generateKeyPair, generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { runCli } from '../src/cli/main';
import { MemberRole } from '../src/common/auth/roles';
import { type SeededTenant, type SeededUser, seedMember, seedTenant } from './factories/tenancy';
import { type FishjamEmulator, startFishjamEmulator } from './emulators/fishjam';
import { type LiveKitEmulator, startLiveKitEmulator } from './emulators/livekit';
import { type OpenViduEmulator, startOpenViduEmulator } from './emulators/openvidu';
import { type PexipEmulator, startPexipEmulator } from './emulators/pexip';
import { type RecordedCall } from './emulators/faults';
import { expectError } from './helpers/assertions';
import { auditDump } from './helpers/audit';
import { durableDatabase } from './helpers/database';
import {
  TEST_AUDIT_KEYS,
  TEST_MASTER_KEYS,
  type GqlResult,
  startTestApp,
  type TestApp,
} from './helpers/test-app';

const generateKeyPairAsync = promisify(generateKeyPair);

const TAG = randomBytes(6).toString('hex');
/** Canary secrets: each one must only ever reach its vendor, sealed in the database. */
const OV_SECRET = `CANARY-ov-${TAG}`;
const OV_SECRET_B = `CANARY-ov-tenant-b-${TAG}`;
const LK_KEY = `APIkey${TAG}`;
const LK_SECRET = `CANARY-lk-apisecret-${TAG}`;
const FJ_TOKEN = `CANARY-fj-management-token-${TAG}`;
const AGORA_APP_ID = randomBytes(16).toString('hex');
const AGORA_CERT = randomBytes(16).toString('hex');
const PX_CLIENT = `client-${TAG}`;
const WRONG = {
  OPENVIDU: `CANARY-wrong-ov-${TAG}`,
  LIVEKIT: `CANARY-wrong-lk-${TAG}`,
  FISHJAM: `CANARY-wrong-fj-${TAG}`,
};
/** Sent only in refused requests: must not be echoed back, logged or stored. */
const REFUSED_SECRET = `CANARY-refused-${TAG}`;
const REFUSED_UPDATE_SECRET = `CANARY-refused-update-${TAG}`;
const FOREIGN_SECRET = `CANARY-foreign-${TAG}`;
const MEMBER_SECRET = `CANARY-member-${TAG}`;

const FIELDS = 'id kind name isDefault config secretFingerprint keyVersion createdAt updatedAt';
const CREATE = `mutation ($input: CreateProviderCredentialInput!) { createProviderCredential(input: $input) { ${FIELDS} } }`;
const UPDATE = `mutation ($input: UpdateProviderCredentialInput!) { updateProviderCredential(input: $input) { ${FIELDS} } }`;
const DELETE = `mutation ($id: ID!, $force: Boolean) { deleteProviderCredential(id: $id, force: $force) { id kind name } }`;
const TEST = 'mutation ($id: ID!) { testProviderCredential(id: $id) { ok latencyMs message } }';
const LIST = `{ providerCredentials { ${FIELDS} } }`;

type Kind = 'OPENVIDU' | 'LIVEKIT' | 'PEXIP' | 'AGORA' | 'FISHJAM' | 'RED5';
type HttpKind = 'OPENVIDU' | 'LIVEKIT' | 'PEXIP' | 'FISHJAM';
const KINDS: Kind[] = ['OPENVIDU', 'LIVEKIT', 'PEXIP', 'AGORA', 'FISHJAM', 'RED5'];
const HTTP_KINDS: HttpKind[] = ['OPENVIDU', 'LIVEKIT', 'PEXIP', 'FISHJAM'];
/** The sealed field each vendor stores (docs/product.md#vendor-credentials). */
const SECRET_FIELDS: Record<Kind, string[]> = {
  OPENVIDU: ['secret'],
  LIVEKIT: ['apiSecret'],
  PEXIP: ['privateKeyPem'],
  AGORA: ['appCertificate'],
  FISHJAM: ['managementToken'],
  RED5: [],
};

interface Cred {
  id: string;
  kind: Kind;
  name: string;
  isDefault: boolean;
  config: Record<string, unknown>;
  secretFingerprint: string | null;
  keyVersion: string | null;
  createdAt: string;
  updatedAt: string;
}
interface TestResult {
  ok: boolean;
  latencyMs: number;
  message: string;
}
type Input = Record<string, unknown>;
type GqlError = NonNullable<GqlResult['body']['errors']>[number];

interface Keys {
  pexip: string;
  pexipPublic: string;
  wrongPexip: string;
  encrypted: string;
  ec: string;
  rsa1024: string;
}

/** The base64 lines of a PEM: any one of them in a response or log means the key leaked. */
const pemLines = (pem: string): string[] =>
  pem.split('\n').filter((l) => l.length >= 40 && !l.startsWith('-----'));

describe('provider credentials vault', () => {
  let t: TestApp;
  let ov: OpenViduEmulator;
  let lk: LiveKitEmulator;
  let px: PexipEmulator;
  let fj: FishjamEmulator;
  let keys: Keys;
  let tenantA: SeededTenant;
  let tenantB: SeededTenant;
  let adminA: SeededUser;
  let memberA: SeededUser;
  let adminB: SeededUser;
  /** The six credentials of tenant A, created in beforeAll; checked in the first tests. */
  const main = {} as Record<Kind, Cred>;
  const created = {} as Record<Kind, GqlResult<{ createProviderCredential: Cred }>>;
  let credB: Cred;
  let createdB: GqlResult<{ createProviderCredential: Cred }>;
  /** Every GraphQL response text, from every app in this file, for the leak checks. */
  const responses: Array<{ label: string; text: string }> = [];
  /** Apps still running, and the (flushed) log lines of those already closed. */
  const apps: TestApp[] = [];
  const closedLogs: string[][] = [];
  const cliOutput: string[] = [];

  const calls = (kind: HttpKind): RecordedCall[] =>
    ({ OPENVIDU: ov.calls, LIVEKIT: lk.calls, PEXIP: px.calls, FISHJAM: fj.calls })[kind];
  const totalCalls = (): number => HTTP_KINDS.reduce((n, k) => n + calls(k).length, 0);
  const emulator = (kind: HttpKind): { faults: OpenViduEmulator['faults'] } =>
    ({ OPENVIDU: ov, LIVEKIT: lk, PEXIP: px, FISHJAM: fj })[kind];

  const canaries = (): Array<[string, string]> => [
    ['OpenVidu secret', OV_SECRET],
    ['OpenVidu secret of tenant B', OV_SECRET_B],
    ['LiveKit apiSecret', LK_SECRET],
    ['Fishjam token', FJ_TOKEN],
    ['Agora certificate', AGORA_CERT],
    ['Agora certificate (upper case)', AGORA_CERT.toUpperCase()],
    ['wrong OpenVidu secret', WRONG.OPENVIDU],
    ['wrong LiveKit secret', WRONG.LIVEKIT],
    ['wrong Fishjam token', WRONG.FISHJAM],
    ['refused secret', REFUSED_SECRET],
    ['refused update secret', REFUSED_UPDATE_SECRET],
    ['foreign tenant secret', FOREIGN_SECRET],
    ['member secret', MEMBER_SECRET],
    ...pemLines(keys.pexip).map((l, i): [string, string] => [`Pexip key line ${i}`, l]),
    ...pemLines(keys.wrongPexip).map((l, i): [string, string] => [`wrong Pexip key line ${i}`, l]),
  ];
  const leaks = (texts: Array<{ label: string; text: string }>): string[] => {
    const list = canaries();
    return texts.flatMap(({ label, text }) =>
      list.filter(([, v]) => text.includes(v)).map(([name]) => `${name} in ${label}`),
    );
  };

  const gqlAs = async <T>(
    app: TestApp,
    auth: string,
    label: string,
    query: string,
    variables: Record<string, unknown> = {},
  ): Promise<GqlResult<T>> => {
    const r = await app.gql<T>(query, variables, { auth });
    responses.push({ label, text: r.text });
    return r;
  };
  const create = (input: Input, auth = adminA.auth, app = t) =>
    gqlAs<{ createProviderCredential: Cred }>(app, auth, `create ${String(input.name)}`, CREATE, {
      input,
    });
  const update = (input: Input, auth = adminA.auth, app = t) =>
    gqlAs<{ updateProviderCredential: Cred }>(app, auth, `update ${String(input.id)}`, UPDATE, {
      input,
    });
  const remove = (id: string, auth = adminA.auth, app = t) =>
    gqlAs<{ deleteProviderCredential: { id: string; kind: Kind; name: string } }>(
      app,
      auth,
      `delete ${id}`,
      DELETE,
      { id },
    );
  const testCred = (id: string, auth = adminA.auth, app = t) =>
    gqlAs<{ testProviderCredential: TestResult }>(app, auth, `test ${id}`, TEST, { id });
  const list = (auth = adminA.auth, app = t) =>
    gqlAs<{ providerCredentials: Cred[] }>(app, auth, 'list', LIST);

  /** Creates and returns the credential, failing with the GraphQL errors when it is refused. */
  const createOk = async (input: Input, auth = adminA.auth, app = t): Promise<Cred> => {
    const r = await create(input, auth, app);
    expect({ name: input.name, errors: r.body.errors }).toEqual({
      name: input.name,
      errors: undefined,
    });
    return r.body.data!.createProviderCredential;
  };
  const tested = async (id: string, auth = adminA.auth, app = t): Promise<TestResult> => {
    const r = await testCred(id, auth, app);
    expect(r.body.errors).toBeUndefined();
    return r.body.data!.testProviderCredential;
  };
  const firstError = (r: GqlResult<unknown>): GqlError | undefined => r.body.errors?.[0];

  const countRows = async (app = t): Promise<number> =>
    Number(
      (
        await app.ds.query<Array<{ n: string }>>(
          'SELECT count(*)::text AS n FROM provider_credential',
        )
      )[0].n,
    );
  const snapshot = async (id: string): Promise<string | undefined> =>
    (
      await t.ds.query<Array<{ j: string }>>(
        'SELECT row_to_json(p)::text AS j FROM provider_credential p WHERE id = $1',
        [id],
      )
    )[0]?.j;
  const storedSecrets = async (id: string, app = t): Promise<Record<string, string>> =>
    JSON.parse(
      (
        await app.ds.query<Array<{ s: string }>>(
          'SELECT secrets::text AS s FROM provider_credential WHERE id = $1',
          [id],
        )
      )[0].s,
    ) as Record<string, string>;

  /** The created credentials of tenant A that hold a sealed secret. */
  const sealedMain = (): Cred[] => Object.values(main).filter((c) => c.kind !== 'RED5');

  const validInputs = (): Record<Kind, Input> => ({
    OPENVIDU: { name: 'ov-main', isDefault: true, openvidu: { url: ov.url, secret: OV_SECRET } },
    LIVEKIT: {
      name: 'lk-main',
      isDefault: true,
      livekit: { url: lk.url, apiKey: LK_KEY, apiSecret: LK_SECRET },
    },
    PEXIP: {
      name: 'px-main',
      isDefault: true,
      pexip: { apiAddress: px.url, clientId: PX_CLIENT, privateKeyPem: keys.pexip },
    },
    AGORA: {
      name: 'agora-main',
      isDefault: true,
      agora: { appId: AGORA_APP_ID, appCertificate: AGORA_CERT },
    },
    FISHJAM: {
      name: 'fj-main',
      isDefault: true,
      fishjam: { fishjamUrl: fj.fishjamUrl, managementToken: FJ_TOKEN },
    },
    RED5: {
      name: 'red5-main',
      isDefault: true,
      red5: { tokenTtlSeconds: 600, allowedIps: ['10.0.0.0/8', '127.0.0.1'] },
    },
  });
  const expectedConfig = (): Record<Kind, Record<string, unknown>> => ({
    OPENVIDU: { url: ov.url },
    LIVEKIT: { url: lk.url, apiKey: LK_KEY },
    PEXIP: { apiAddress: px.url, clientId: PX_CLIENT },
    AGORA: { appId: AGORA_APP_ID },
    FISHJAM: { fishjamUrl: fj.fishjamUrl },
    RED5: { tokenTtlSeconds: 600, allowedIps: ['10.0.0.0/8', '127.0.0.1'] },
  });

  const startApp = async (env: Record<string, string> = {}): Promise<TestApp> => {
    const app = await startTestApp(env);
    apps.push(app);
    return app;
  };
  const closeApp = async (app: TestApp): Promise<void> => {
    const i = apps.indexOf(app);
    if (i < 0) return;
    apps.splice(i, 1);
    app.app.flushLogs();
    closedLogs.push(app.logs);
    await app.close();
  };

  beforeAll(async () => {
    const rsa = () =>
      generateKeyPairAsync('rsa', {
        modulusLength: 2048,
        publicKeyEncoding: { type: 'spki', format: 'pem' },
        privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
      });
    const [pexip, wrongPexip, started] = await Promise.all([rsa(), rsa(), startApp()]);
    t = started;
    const encrypted = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      publicKeyEncoding: { type: 'spki', format: 'pem' },
      privateKeyEncoding: { type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'x' },
    });
    const ec = generateKeyPairSync('ec', {
      namedCurve: 'prime256v1',
      publicKeyEncoding: { type: 'spki', format: 'pem' },
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    });
    const small = generateKeyPairSync('rsa', {
      modulusLength: 1024,
      publicKeyEncoding: { type: 'spki', format: 'pem' },
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    });
    keys = {
      pexip: pexip.privateKey,
      pexipPublic: pexip.publicKey,
      wrongPexip: wrongPexip.privateKey,
      encrypted: encrypted.privateKey,
      ec: ec.privateKey,
      rsa1024: small.privateKey,
    };
    [ov, lk, px, fj] = await Promise.all([
      startOpenViduEmulator({ secret: OV_SECRET }),
      startLiveKitEmulator({ apiKey: LK_KEY, apiSecret: LK_SECRET }),
      startPexipEmulator({ clientId: PX_CLIENT, publicKeyPem: keys.pexipPublic }),
      startFishjamEmulator({ managementToken: FJ_TOKEN }),
    ]);

    tenantA = await seedTenant(t);
    tenantB = await seedTenant(t);
    adminA = await seedMember(t, tenantA, MemberRole.ADMIN);
    memberA = await seedMember(t, tenantA, MemberRole.MEMBER);
    adminB = await seedMember(t, tenantB, MemberRole.ADMIN);

    const inputs = validInputs();
    for (const kind of KINDS) {
      created[kind] = await create(inputs[kind]);
      const cred = created[kind].body.data?.createProviderCredential;
      if (cred) main[kind] = cred;
    }
    // Tenant B: the same name (names are unique per tenant only), its own secret, never tested
    // before the AAD swap below (so nothing of it is cached).
    createdB = await create(
      { name: 'ov-main', isDefault: true, openvidu: { url: ov.url, secret: OV_SECRET_B } },
      adminB.auth,
    );
    if (createdB.body.data) credB = createdB.body.data.createProviderCredential;
  });

  afterAll(async () => {
    for (const app of [...apps]) await closeApp(app);
    await Promise.all([ov?.close(), lk?.close(), px?.close(), fj?.close()]);
  });

  describe('create, list and test', () => {
    it.each(KINDS)(
      'should return the config without secrets, a fingerprint and the key version when a %s credential is created',
      (kind) => {
        const r = created[kind];
        expect(r.body.errors).toBeUndefined();
        const cred = r.body.data!.createProviderCredential;
        expect(cred).toMatchObject({
          kind,
          name: validInputs()[kind].name,
          isDefault: true,
          config: expectedConfig()[kind],
        });
        expect(cred.config).toEqual(expectedConfig()[kind]);
        expect(cred.id).toMatch(/^[0-9a-f-]{36}$/);
        if (kind === 'RED5') {
          // Red5 has no vendor secret: nothing is sealed, so nothing to fingerprint.
          expect(cred.secretFingerprint).toBeNull();
          expect(cred.keyVersion).toBeNull();
        } else {
          expect(cred.secretFingerprint).toMatch(/^[A-Za-z0-9_-]{16,}$/);
          expect(cred.keyVersion).toBe('master-test-1');
        }
      },
    );

    it('should give different fingerprints when the secrets differ', () => {
      const prints = sealedMain().map((c) => c.secretFingerprint);
      expect(prints.length).toBeGreaterThanOrEqual(4);
      expect(new Set(prints).size).toBe(prints.length);
    });

    it("should list every created credential and no other tenant's when providerCredentials is queried", async () => {
      const r = await list();
      expect(r.body.errors).toBeUndefined();
      const rows = r.body.data!.providerCredentials;
      expect(Object.keys(main).length).toBeGreaterThanOrEqual(5);
      for (const cred of Object.values(main)) {
        expect(rows.find((c) => c.id === cred.id)).toEqual(cred);
      }
      expect(rows.map((c) => c.id)).not.toContain(credB.id);
    });

    it.each(HTTP_KINDS)(
      'should answer ok true with a latency when the %s credential is tested against its emulator',
      async (kind) => {
        const before = calls(kind).length;
        const result = await tested(main[kind].id);
        expect(result).toMatchObject({ ok: true });
        expect(Number.isInteger(result.latencyMs)).toBe(true);
        expect(result.latencyMs).toBeGreaterThanOrEqual(0);
        expect(result.message.length).toBeGreaterThan(0);
        const made = calls(kind).slice(before);
        expect(made.length).toBeGreaterThan(0);
        const auth = made.map((c) => c.headers.authorization ?? '');
        if (kind === 'OPENVIDU') {
          const basic = `Basic ${Buffer.from(`OPENVIDUAPP:${OV_SECRET}`).toString('base64')}`;
          expect(auth).toContain(basic);
        }
        if (kind === 'FISHJAM') expect(auth).toContain(`Bearer ${FJ_TOKEN}`);
        if (kind === 'LIVEKIT') expect(auth[0]).toMatch(/^Bearer ey/);
        if (kind === 'PEXIP') {
          expect(made.map((c) => `${c.method} ${c.path}`)).toContain('POST /oauth/token');
        }
      },
    );

    it.each(['AGORA', 'RED5'] as const)(
      'should answer ok true without calling any vendor when the %s credential is tested',
      async (kind) => {
        const before = totalCalls();
        const result = await tested(main[kind].id);
        expect(result.ok).toBe(true);
        expect(result.latencyMs).toBeGreaterThanOrEqual(0);
        expect(totalCalls()).toBe(before);
      },
    );

    it.each(HTTP_KINDS)(
      'should answer ok false with PROVIDER_UNAVAILABLE when the %s emulator answers 500, then recover',
      async (kind) => {
        const { faults } = emulator(kind);
        faults.set({ status: 500 });
        let result: TestResult;
        try {
          result = await tested(main[kind].id);
          expect(faults.applied).toBeGreaterThan(0);
        } finally {
          faults.clear();
        }
        expect(result.ok).toBe(false);
        expect(result.message).toMatch(/^PROVIDER_UNAVAILABLE\b/);
        expect(result.latencyMs).toBeGreaterThanOrEqual(0);
        expect((await tested(main[kind].id)).ok).toBe(true);
      },
    );

    const wrongCreds = {} as Record<HttpKind, Cred>;
    it.each(HTTP_KINDS)(
      'should answer ok false with PROVIDER_REJECTED when the %s secret is wrong',
      async (kind) => {
        const inputs: Record<HttpKind, Input> = {
          OPENVIDU: { name: 'ov-wrong', openvidu: { url: ov.url, secret: WRONG.OPENVIDU } },
          LIVEKIT: {
            name: 'lk-wrong',
            livekit: { url: lk.url, apiKey: LK_KEY, apiSecret: WRONG.LIVEKIT },
          },
          PEXIP: {
            name: 'px-wrong',
            pexip: { apiAddress: px.url, clientId: PX_CLIENT, privateKeyPem: keys.wrongPexip },
          },
          FISHJAM: {
            name: 'fj-wrong',
            fishjam: { fishjamUrl: fj.fishjamUrl, managementToken: WRONG.FISHJAM },
          },
        };
        wrongCreds[kind] = await createOk(inputs[kind]);
        const before = calls(kind).length;
        const result = await tested(wrongCreds[kind].id);
        expect(calls(kind).length).toBeGreaterThan(before);
        expect(result.ok).toBe(false);
        expect(result.message).toMatch(/^PROVIDER_REJECTED\b/);
      },
    );

    describe('with a short vendor timeout', () => {
      let fast: TestApp;
      let fastOv: Cred;
      beforeAll(async () => {
        fast = await startApp({ ROOMKEY_PROVIDER_TIMEOUT_MS: '300' });
        fastOv = await createOk(
          { name: 'ov-fast', openvidu: { url: ov.url, secret: OV_SECRET } },
          fast.adminAuth,
          fast,
        );
      });

      it('should answer ok false with PROVIDER_UNAVAILABLE when the emulator never answers', async () => {
        expect((await tested(fastOv.id, fast.adminAuth, fast)).ok).toBe(true);
        ov.faults.set({ hang: true });
        let result: TestResult;
        try {
          result = await tested(fastOv.id, fast.adminAuth, fast);
          expect(ov.faults.applied).toBeGreaterThan(0);
        } finally {
          ov.faults.clear();
        }
        expect(result.ok).toBe(false);
        expect(result.message).toMatch(/^PROVIDER_UNAVAILABLE: .*in time/);
        expect(result.latencyMs).toBeGreaterThanOrEqual(250);
      });
    });

    describe('update and delete', () => {
      it('should keep the stored secret when an update omits it', async () => {
        const before = await storedSecrets(main.OPENVIDU.id);
        const r = await update({
          id: main.OPENVIDU.id,
          name: 'ov-primary',
          openvidu: { url: `${ov.url}/` },
        });
        expect(r.body.errors).toBeUndefined();
        const cred = r.body.data!.updateProviderCredential;
        expect(cred).toMatchObject({
          id: main.OPENVIDU.id,
          name: 'ov-primary',
          config: { url: ov.url },
          secretFingerprint: main.OPENVIDU.secretFingerprint,
          keyVersion: 'master-test-1',
        });
        expect(await storedSecrets(main.OPENVIDU.id)).toEqual(before);
        expect((await tested(main.OPENVIDU.id)).ok).toBe(true);
      });

      it('should keep the Pexip key when only the client settings are updated', async () => {
        const r = await update({ id: main.PEXIP.id, pexip: { apiAddress: px.url } });
        expect(r.body.errors).toBeUndefined();
        expect(r.body.data!.updateProviderCredential.secretFingerprint).toBe(
          main.PEXIP.secretFingerprint,
        );
        expect((await tested(main.PEXIP.id)).ok).toBe(true);
      });

      it('should change the fingerprint and start working when a wrong secret is replaced', async () => {
        const wrong = wrongCreds.OPENVIDU;
        expect(wrong).toBeDefined();
        const sealedBefore = await storedSecrets(wrong.id);
        const r = await update({ id: wrong.id, openvidu: { secret: OV_SECRET } });
        expect(r.body.errors).toBeUndefined();
        const cred = r.body.data!.updateProviderCredential;
        expect(cred.secretFingerprint).toMatch(/^[A-Za-z0-9_-]{16,}$/);
        expect(cred.secretFingerprint).not.toBe(wrong.secretFingerprint);
        expect(cred.config).toEqual({ url: ov.url });
        const sealedAfter = await storedSecrets(wrong.id);
        expect(sealedAfter.secret).toMatch(/^rk1\.master-test-1\./);
        expect(sealedAfter.secret).not.toBe(sealedBefore.secret);
        expect((await tested(wrong.id)).ok).toBe(true);
      });

      it('should refuse with BAD_USER_INPUT and change nothing when the vendor block is of the wrong kind', async () => {
        const before = await snapshot(main.OPENVIDU.id);
        const r = await update({
          id: main.OPENVIDU.id,
          livekit: { url: lk.url, apiKey: LK_KEY, apiSecret: REFUSED_UPDATE_SECRET },
        });
        expectError(r, 'BAD_USER_INPUT');
        expect(firstError(r)?.extensions?.field).toBe('livekit');
        expect(r.text).not.toContain(REFUSED_UPDATE_SECRET);
        expect(await snapshot(main.OPENVIDU.id)).toBe(before);
      });

      it('should refuse with BAD_USER_INPUT and change nothing when an update gives two vendor blocks', async () => {
        const before = await snapshot(main.OPENVIDU.id);
        const r = await update({
          id: main.OPENVIDU.id,
          openvidu: { secret: REFUSED_UPDATE_SECRET },
          agora: { appId: AGORA_APP_ID },
        });
        expectError(r, 'BAD_USER_INPUT');
        expect(await snapshot(main.OPENVIDU.id)).toBe(before);
      });

      it('should refuse without echoing the new secret when an update fails validation', async () => {
        const before = await snapshot(main.OPENVIDU.id);
        const r = await update({
          id: main.OPENVIDU.id,
          openvidu: { url: 'ftp://ov.example.com', secret: REFUSED_UPDATE_SECRET },
        });
        expectError(r, 'BAD_USER_INPUT');
        expect(firstError(r)?.extensions?.field).toBe('url');
        expect(r.text).not.toContain(REFUSED_UPDATE_SECRET);
        expect(await snapshot(main.OPENVIDU.id)).toBe(before);
      });

      it("should answer CONFLICT and change nothing when an update takes another credential's name", async () => {
        const before = await snapshot(main.LIVEKIT.id);
        const r = await update({ id: main.LIVEKIT.id, name: 'fj-main' });
        expectError(r, 'CONFLICT');
        expect(await snapshot(main.LIVEKIT.id)).toBe(before);
      });

      it('should remove the credential when it is deleted', async () => {
        const victim = wrongCreds.LIVEKIT;
        expect(victim).toBeDefined();
        const rows = await countRows();
        const r = await remove(victim.id);
        expect(r.body.errors).toBeUndefined();
        expect(r.body.data!.deleteProviderCredential).toEqual({
          id: victim.id,
          kind: 'LIVEKIT',
          name: 'lk-wrong',
        });
        expect(await countRows()).toBe(rows - 1);
        expect(await snapshot(victim.id)).toBeUndefined();
        const listed = await list();
        expect(listed.body.data!.providerCredentials.map((c) => c.id)).not.toContain(victim.id);
        expectError(await testCred(victim.id), 'NOT_FOUND');
        expectError(await remove(victim.id), 'NOT_FOUND');
      });

      it('should answer NOT_FOUND and delete nothing when the id is unknown', async () => {
        const rows = await countRows();
        const r = await remove(randomUUID());
        expectError(r, 'NOT_FOUND');
        expect(r.body.data?.deleteProviderCredential ?? null).toBeNull();
        expect(await countRows()).toBe(rows);
      });

      it('should answer NOT_FOUND when an unknown id is updated or tested', async () => {
        const id = randomUUID();
        expectError(await update({ id, name: 'ghost' }), 'NOT_FOUND');
        expectError(await testCred(id), 'NOT_FOUND');
      });
    });
  });

  describe('validation', () => {
    const ovBlock = (url: string): Input => ({ url, secret: REFUSED_SECRET });
    interface Case {
      label: string;
      field: string;
      message: RegExp;
      input: () => Input;
    }
    const hex = (n: number): string => 'a1'.repeat(32).slice(0, n);
    const cases: Case[] = [
      {
        label: 'no vendor block is given',
        field: 'input',
        message: /exactly one vendor block/,
        input: () => ({ name: 'v' }),
      },
      {
        label: 'two vendor blocks are given',
        field: 'input',
        message: /exactly one vendor block/,
        input: () => ({
          name: 'v',
          openvidu: ovBlock('https://ov.example.com'),
          agora: { appId: hex(32), appCertificate: hex(32) },
        }),
      },
      ...(
        [
          ['uses ftp:', 'ftp://ov.example.com', /must use http: or https:/],
          ['uses javascript:', 'javascript:alert(1)', /must use http: or https:/],
          [
            'carries user:pass@',
            'https://user:pass@ov.example.com',
            /must not contain credentials/,
          ],
          ['has a query', 'https://ov.example.com/?a=1', /query or fragment/],
          ['has a fragment', 'https://ov.example.com/#top', /query or fragment/],
          ['ends with an empty query "?"', 'https://ov.example.com/?', /query or fragment/],
          ['ends with an empty fragment "#"', 'https://ov.example.com/#', /query or fragment/],
          ['is relative', '/openvidu', /absolute URL/],
        ] as const
      ).map(([what, url, message]): Case => ({
        label: `the OpenVidu url ${what}`,
        field: 'url',
        message,
        input: () => ({ name: 'v', openvidu: ovBlock(url) }),
      })),
      {
        label: 'the LiveKit url carries credentials',
        field: 'url',
        message: /must not contain credentials/,
        input: () => ({
          name: 'v',
          livekit: { url: 'wss://key:secret@lk.example.com', apiKey: 'k', apiSecret: 's' },
        }),
      },
      {
        label: 'the LiveKit url is ftp:',
        field: 'url',
        message: /must use/,
        input: () => ({
          name: 'v',
          livekit: { url: 'ftp://lk.example.com', apiKey: 'k', apiSecret: 's' },
        }),
      },
      {
        label: 'the Pexip apiAddress has a query',
        field: 'apiAddress',
        message: /query or fragment/,
        input: () => ({
          name: 'v',
          pexip: {
            apiAddress: 'https://crud.pexip.rocks?x=1',
            clientId: 'c',
            privateKeyPem: keys.pexip,
          },
        }),
      },
      {
        label: 'the Fishjam url is javascript:',
        field: 'fishjamUrl',
        message: /must use http: or https:/,
        input: () => ({
          name: 'v',
          fishjam: { fishjamUrl: 'javascript:alert(1)', managementToken: REFUSED_SECRET },
        }),
      },
      {
        label: 'the Fishjam url is relative',
        field: 'fishjamUrl',
        message: /absolute URL/,
        input: () => ({
          name: 'v',
          fishjam: { fishjamUrl: 'fishjam.io/api/v1', managementToken: REFUSED_SECRET },
        }),
      },
      ...(
        [
          ['appId', '31 hex characters', hex(31), hex(32)],
          ['appId', '33 hex characters', hex(33), hex(32)],
          ['appId', 'not hex', 'g'.repeat(32), hex(32)],
          ['appCertificate', '31 hex characters', hex(32), hex(31)],
          ['appCertificate', '33 hex characters', hex(32), hex(33)],
          ['appCertificate', 'not hex', hex(32), `${hex(31)}z`],
        ] as const
      ).map(([field, what, appId, appCertificate]): Case => ({
        label: `the Agora ${field} is ${what}`,
        field,
        message: /32 hexadecimal characters/,
        input: () => ({ name: 'v', agora: { appId, appCertificate } }),
      })),
      ...(
        [
          [
            'malformed',
            () => '-----BEGIN PRIVATE KEY-----\nnot-a-key\n-----END PRIVATE KEY-----',
            /not a valid PEM/,
          ],
          ['encrypted', () => keys.encrypted, /encrypted.*passphrase/],
          ['an EC key', () => keys.ec, /must be an RSA key/],
          ['a 1024-bit RSA key', () => keys.rsa1024, /1024 bits; at least 2048/],
          ['a public key', () => keys.pexipPublic, /not a valid PEM private key/],
        ] as const
      ).map(([what, pem, message]): Case => ({
        label: `the Pexip private key is ${what}`,
        field: 'privateKeyPem',
        message,
        input: () => ({
          name: 'v',
          pexip: { apiAddress: 'https://crud.pexip.rocks', clientId: 'c', privateKeyPem: pem() },
        }),
      })),
      {
        label: 'the LiveKit apiKey is empty',
        field: 'apiKey',
        message: /apiKey/,
        input: () => ({
          name: 'v',
          livekit: { url: 'https://lk.example.com', apiKey: '', apiSecret: REFUSED_SECRET },
        }),
      },
      {
        label: 'the LiveKit apiSecret is empty',
        field: 'apiSecret',
        message: /apiSecret/,
        input: () => ({
          name: 'v',
          livekit: { url: 'https://lk.example.com', apiKey: 'k', apiSecret: '' },
        }),
      },
      {
        label: 'the LiveKit apiSecret is blank',
        field: 'apiSecret',
        message: /apiSecret is required/,
        input: () => ({
          name: 'v',
          livekit: { url: 'https://lk.example.com', apiKey: 'k', apiSecret: '   ' },
        }),
      },
      {
        label: 'the Fishjam token is missing',
        field: 'managementToken',
        message: /managementToken is required/,
        input: () => ({ name: 'v', fishjam: { fishjamUrl: 'https://fishjam.io/api/v1/x' } }),
      },
      {
        label: 'the Fishjam url is missing',
        field: 'fishjamUrl',
        message: /fishjamUrl is required/,
        input: () => ({ name: 'v', fishjam: { managementToken: REFUSED_SECRET } }),
      },
      {
        label: 'the OpenVidu secret is missing',
        field: 'secret',
        message: /secret is required/,
        input: () => ({ name: 'v', openvidu: { url: 'https://ov.example.com' } }),
      },
      {
        label: 'a Red5 allowedIps entry is not an address',
        field: 'allowedIps',
        message: /IP addresses or CIDR ranges/,
        input: () => ({ name: 'v', red5: { allowedIps: ['127.0.0.1', 'not-an-ip'] } }),
      },
      {
        label: 'a Red5 allowedIps range is out of bounds',
        field: 'allowedIps',
        message: /IP addresses or CIDR ranges/,
        input: () => ({ name: 'v', red5: { allowedIps: ['10.0.0.0/33'] } }),
      },
      {
        label: 'the Red5 ttl is below 60 s',
        field: 'tokenTtlSeconds',
        message: /tokenTtlSeconds/,
        input: () => ({ name: 'v', red5: { tokenTtlSeconds: 59 } }),
      },
      {
        label: 'the Red5 ttl is above 24 h',
        field: 'tokenTtlSeconds',
        message: /tokenTtlSeconds/,
        input: () => ({ name: 'v', red5: { tokenTtlSeconds: 86_401 } }),
      },
      {
        label: 'the input has an unknown property',
        field: 'tenantId',
        message: /tenantId/,
        input: () => ({
          name: 'v',
          tenantId: randomUUID(),
          agora: { appId: hex(32), appCertificate: hex(32) },
        }),
      },
      {
        label: 'a vendor block has an unknown property',
        field: 'region',
        message: /region/,
        input: () => ({
          name: 'v',
          agora: { appId: hex(32), appCertificate: hex(32), region: 'eu' },
        }),
      },
    ];

    it.each(cases)(
      'should refuse with BAD_USER_INPUT naming $field and store nothing when $label',
      async ({ field, message, input }) => {
        const rows = await countRows();
        const vendorCalls = totalCalls();
        const r = await create(input());
        expectError(r, 'BAD_USER_INPUT');
        const err = firstError(r);
        expect(`${err?.extensions?.field ?? ''} ${err?.message ?? ''}`).toContain(field);
        expect(err?.message).toMatch(message);
        expect(await countRows()).toBe(rows);
        expect(totalCalls()).toBe(vendorCalls);
      },
    );

    it('should not echo the secret when an input with an unknown property is refused', async () => {
      const rows = await countRows();
      const r = await create({
        name: 'v',
        openvidu: { url: 'https://ov.example.com', secret: REFUSED_SECRET, region: 'eu' },
      });
      expectError(r, 'BAD_USER_INPUT');
      expect(r.text).not.toContain(REFUSED_SECRET);
      const u = await update({
        id: main.OPENVIDU.id,
        openvidu: { secret: REFUSED_UPDATE_SECRET, region: 'eu' },
      });
      expectError(u, 'BAD_USER_INPUT');
      expect(u.text).not.toContain(REFUSED_UPDATE_SECRET);
      expect(await countRows()).toBe(rows);
    });

    it('should answer CONFLICT and store nothing when the name is taken in the tenant', async () => {
      const rows = await countRows();
      const r = await create({
        name: 'fj-main',
        fishjam: { fishjamUrl: fj.fishjamUrl, managementToken: REFUSED_SECRET },
      });
      expectError(r, 'CONFLICT');
      expect(r.text).not.toContain(REFUSED_SECRET);
      expect(await countRows()).toBe(rows);
    });

    it('should accept a name when only another tenant uses it', () => {
      expect(createdB.body.errors).toBeUndefined();
      expect(credB).toMatchObject({ name: 'ov-main', kind: 'OPENVIDU', isDefault: true });
      expect(main.OPENVIDU).toMatchObject({ name: 'ov-main' });
    });
  });

  describe('default flag', () => {
    const defaults = async (): Promise<Record<string, string[]>> => {
      const rows = await t.ds.query<Array<{ tenant_id: string; kind: string; name: string }>>(
        'SELECT tenant_id, kind::text AS kind, name FROM provider_credential WHERE is_default ORDER BY name',
      );
      const out: Record<string, string[]> = {};
      for (const r of rows) {
        const who = r.tenant_id === tenantA.id ? 'A' : r.tenant_id === tenantB.id ? 'B' : 'other';
        (out[`${who}:${r.kind}`] ??= []).push(r.name);
      }
      return out;
    };

    it('should keep only the latest default of a kind when two credentials are created with isDefault', async () => {
      const before = await defaults();
      expect(before['A:OPENVIDU']).toEqual(['ov-primary']);
      const second = await createOk({
        name: 'ov-second',
        isDefault: true,
        openvidu: { url: ov.url, secret: OV_SECRET },
      });
      expect(second.isDefault).toBe(true);
      const after = await defaults();
      expect(after).toEqual({ ...before, 'A:OPENVIDU': ['ov-second'] });
      expect(after['B:OPENVIDU']).toEqual(['ov-main']);
      const listed = (await list()).body.data!.providerCredentials;
      expect(listed.filter((c) => c.kind === 'OPENVIDU' && c.isDefault).map((c) => c.name)).toEqual(
        ['ov-second'],
      );
    });

    it('should move the default back when an update sets isDefault', async () => {
      const r = await update({ id: main.OPENVIDU.id, isDefault: true });
      expect(r.body.errors).toBeUndefined();
      expect(r.body.data!.updateProviderCredential.isDefault).toBe(true);
      expect((await defaults())['A:OPENVIDU']).toEqual(['ov-primary']);
    });
  });

  describe('roles and tenant isolation', () => {
    it('should answer FORBIDDEN for every credential operation when the caller is a MEMBER', async () => {
      const rows = await countRows();
      const before = await snapshot(main.FISHJAM.id);
      const vendorCalls = totalCalls();
      const attempts: Array<GqlResult<unknown>> = [
        await list(memberA.auth),
        await create(
          { name: 'by-member', openvidu: { url: ov.url, secret: MEMBER_SECRET } },
          memberA.auth,
        ),
        await update(
          { id: main.FISHJAM.id, fishjam: { managementToken: MEMBER_SECRET } },
          memberA.auth,
        ),
        await testCred(main.FISHJAM.id, memberA.auth),
        await remove(main.FISHJAM.id, memberA.auth),
      ];
      expect(attempts.map((r) => firstError(r)?.extensions?.code)).toEqual([
        'FORBIDDEN',
        'FORBIDDEN',
        'FORBIDDEN',
        'FORBIDDEN',
        'FORBIDDEN',
      ]);
      for (const r of attempts) expectError(r, 'FORBIDDEN');
      expect(await countRows()).toBe(rows);
      expect(await snapshot(main.FISHJAM.id)).toBe(before);
      expect(totalCalls()).toBe(vendorCalls);
    });

    it('should let the OWNER list the credentials when the caller owns the tenant', async () => {
      const r = await list(tenantA.owner.auth);
      expect(r.body.errors).toBeUndefined();
      expect(r.body.data!.providerCredentials.map((c) => c.id)).toContain(main.FISHJAM.id);
    });

    it("should answer NOT_FOUND and change nothing when tenant B's admin uses tenant A's credential id", async () => {
      const id = main.FISHJAM.id;
      const before = await snapshot(id);
      const rows = await countRows();
      const vendorCalls = totalCalls();

      const listed = await list(adminB.auth);
      expect(listed.body.errors).toBeUndefined();
      const ids = listed.body.data!.providerCredentials.map((c) => c.id);
      expect(ids).toContain(credB.id);
      expect(Object.keys(main).length).toBeGreaterThanOrEqual(5);
      for (const cred of Object.values(main)) expect(ids).not.toContain(cred.id);

      const tried: Array<GqlResult<unknown>> = [
        await testCred(id, adminB.auth),
        await update(
          { id, name: 'stolen', isDefault: false, fishjam: { managementToken: FOREIGN_SECRET } },
          adminB.auth,
        ),
        await remove(id, adminB.auth),
      ];
      expect(tried.map((r) => firstError(r)?.extensions?.code)).toEqual([
        'NOT_FOUND',
        'NOT_FOUND',
        'NOT_FOUND',
      ]);
      for (const r of tried) expectError(r, 'NOT_FOUND');
      expect(await snapshot(id)).toBe(before);
      expect(await countRows()).toBe(rows);
      expect(totalCalls()).toBe(vendorCalls);
      // Still A's, still working.
      expect((await tested(id)).ok).toBe(true);
    });
  });

  describe('encryption at rest', () => {
    it('should store each secret sealed as rk1 under master-test-1 when credentials are created', async () => {
      expect(Object.keys(main).length).toBeGreaterThanOrEqual(5);
      for (const { kind, id } of Object.values(main)) {
        const sealed = await storedSecrets(id);
        expect({ kind, fields: Object.keys(sealed).sort() }).toEqual({
          kind,
          fields: SECRET_FIELDS[kind],
        });
        for (const value of Object.values(sealed)) {
          expect(value).toMatch(/^rk1\.master-test-1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
        }
      }
      const [row] = await t.ds.query<Array<{ key_version: string | null }>>(
        'SELECT key_version FROM provider_credential WHERE id = $1',
        [main.FISHJAM.id],
      );
      expect(row.key_version).toBe('master-test-1');
    });

    it("should refuse to use a sealed secret when it is copied into another tenant's row", async () => {
      await t.ds.query(
        `UPDATE provider_credential
            SET secrets = (SELECT secrets FROM provider_credential WHERE id = $1), updated_at = now()
          WHERE id = $2`,
        [main.OPENVIDU.id, credB.id],
      );
      expect(await storedSecrets(credB.id)).toEqual(await storedSecrets(main.OPENVIDU.id));
      const before = ov.calls.length;
      const r = await testCred(credB.id, adminB.auth);
      const result = r.body.data?.testProviderCredential;
      expect(r.body.errors !== undefined || result?.ok === false).toBe(true);
      expect(result?.ok ?? false).toBe(false);
      expect(r.text).not.toContain(OV_SECRET);
      expect(r.text).not.toContain(OV_SECRET_B);
      // The copied ciphertext did not open: nothing was sent to the vendor with A's secret.
      expect(ov.calls.length).toBe(before);
      // A's own credential is untouched and still works.
      expect((await tested(main.OPENVIDU.id)).ok).toBe(true);
    });
  });

  describe('audit', () => {
    it('should write exactly one audit event with the kind and no secret when a credential is created, updated, tested and deleted', async () => {
      const cred = await createOk({
        name: 'fj-audited',
        fishjam: { fishjamUrl: fj.fishjamUrl, managementToken: FJ_TOKEN },
      });
      expect(
        (await update({ id: cred.id, fishjam: { managementToken: FJ_TOKEN } })).body.errors,
      ).toBeUndefined();
      expect((await tested(cred.id)).ok).toBe(true);
      expect((await remove(cred.id)).body.errors).toBeUndefined();
      const events = await t.ds.query<
        Array<{ action: string; outcome: string; tenant_id: string; m: string }>
      >(
        `SELECT action, outcome::text AS outcome, tenant_id, metadata::text AS m
           FROM audit_event WHERE target_id = $1 ORDER BY seq`,
        [cred.id],
      );
      expect(events.map((e) => [e.action, e.outcome, e.tenant_id])).toEqual([
        ['provider_credential.created', 'SUCCESS', tenantA.id],
        ['provider_credential.updated', 'SUCCESS', tenantA.id],
        ['provider_credential.tested', 'SUCCESS', tenantA.id],
        ['provider_credential.deleted', 'SUCCESS', tenantA.id],
      ]);
      for (const e of events) {
        expect((JSON.parse(e.m) as { kind?: string }).kind).toBe('FISHJAM');
        expect(e.m).not.toContain(FJ_TOKEN);
      }
    });
  });

  describe('master key rotation through the CLI', () => {
    type RotatedKind = 'OPENVIDU' | 'PEXIP' | 'AGORA' | 'RED5';
    const ROTATED_KINDS: RotatedKind[] = ['OPENVIDU', 'PEXIP', 'AGORA', 'RED5'];
    const NEW_KEY = `master-test-2:${randomBytes(32).toString('base64')}`;
    let dbEnv: Record<string, string>;
    let cleanup: () => Promise<void> = () => Promise.resolve();
    let rotated: TestApp | undefined;
    const ids: Partial<Record<RotatedKind, string>> = {};
    const createdBefore = {} as Record<RotatedKind, GqlResult<{ createProviderCredential: Cred }>>;
    const cli = { code: -1, out: [] as string[], err: [] as string[] };

    beforeAll(async () => {
      const db = await durableDatabase('rotate');
      dbEnv = db.env;
      cleanup = db.drop;
      // PGlite keeps its folder locked while open: store the credentials, close, then rotate.
      const before = await startApp(dbEnv);
      try {
        const inputs = validInputs();
        for (const kind of ROTATED_KINDS) {
          createdBefore[kind] = await create(inputs[kind], before.adminAuth, before);
          const cred = createdBefore[kind].body.data?.createProviderCredential;
          if (cred) ids[kind] = cred.id;
        }
      } finally {
        await closeApp(before);
      }
      const code = await runCli(
        ['keys:rotate'],
        {
          ...dbEnv,
          NODE_ENV: 'test',
          ROOMKEY_AUDIT_KEYS: TEST_AUDIT_KEYS,
          ROOMKEY_MASTER_KEYS: `${NEW_KEY},${TEST_MASTER_KEYS}`,
        },
        { out: (l) => cli.out.push(l), err: (l) => cli.err.push(l) },
      );
      cli.code = code;
      cliOutput.push(...cli.out, ...cli.err);
      rotated = await startApp({ ...dbEnv, ROOMKEY_MASTER_KEYS: NEW_KEY });
    });
    afterAll(async () => {
      if (rotated) await closeApp(rotated);
      await cleanup();
    });

    it.each(ROTATED_KINDS)(
      'should seal the %s credential under master-test-1 when it is created before the rotation',
      (kind) => {
        const r = createdBefore[kind];
        expect(r.body.errors).toBeUndefined();
        expect(r.body.data?.createProviderCredential.keyVersion).toBe(
          kind === 'RED5' ? null : 'master-test-1',
        );
      },
    );

    it('should exit 0 and count every sealed credential when keys:rotate runs with a new first key', () => {
      expect({ code: cli.code, err: cli.err }).toEqual({ code: 0, err: [] });
      const summary = JSON.parse(cli.out[0]) as { rewrapped: { providerCredentials: number } };
      const sealed = Object.keys(ids).filter((k) => k !== 'RED5');
      expect(sealed.length).toBeGreaterThanOrEqual(2);
      expect(summary.rewrapped.providerCredentials).toBe(sealed.length);
    });

    it('should report keyVersion master-test-2 and store rk1.master-test-2 values when the app starts with only the new key', async () => {
      expect(rotated).toBeDefined();
      const listed = await list(rotated!.adminAuth, rotated);
      expect(listed.body.errors).toBeUndefined();
      const versions = Object.fromEntries(
        listed.body.data!.providerCredentials.map((c) => [c.id, c.keyVersion]),
      );
      const expected = Object.fromEntries(
        Object.entries(ids).map(([kind, id]) => [id, kind === 'RED5' ? null : 'master-test-2']),
      );
      expect(Object.keys(expected).length).toBeGreaterThanOrEqual(3);
      expect(versions).toEqual(expected);
      for (const [kind, id] of Object.entries(ids)) {
        const values = Object.values(await storedSecrets(id, rotated));
        expect({ kind, n: values.length }).toEqual({ kind, n: kind === 'RED5' ? 0 : 1 });
        for (const value of values) expect(value).toMatch(/^rk1\.master-test-2\./);
      }
    });

    it.each(['OPENVIDU', 'PEXIP', 'AGORA'] as const)(
      'should still test the %s credential ok when the app starts with only the new key',
      async (kind) => {
        expect(rotated).toBeDefined();
        expect(ids[kind]).toBeDefined();
        const result = await tested(ids[kind]!, rotated!.adminAuth, rotated);
        expect(result).toMatchObject({ ok: true });
      },
    );

    it('should write one provider_credential.rotated audit event without secrets when keys:rotate runs', async () => {
      expect(rotated).toBeDefined();
      const events = await rotated!.ds.query<Array<{ m: string }>>(
        `SELECT metadata::text AS m FROM audit_event WHERE action = 'provider_credential.rotated'`,
      );
      expect(events).toHaveLength(1);
      // Signing keys and identity-provider secrets are re-wrapped too: at least the credentials.
      const sealed = Object.keys(ids).filter((k) => k !== 'RED5').length;
      expect((JSON.parse(events[0].m) as { rewrapped: number }).rewrapped).toBeGreaterThanOrEqual(
        sealed + 1,
      );
      const dump = await auditDump(rotated!);
      expect(leaks([{ label: 'rotated audit_event', text: dump }])).toEqual([]);
      expect(leaks([{ label: 'CLI output', text: cliOutput.join('\n') }])).toEqual([]);
    });
  });

  describe('secrets never leave', () => {
    it('should expose only the fields of docs/product.md#vendor-credentials on ProviderCredential when the schema is introspected', async () => {
      const r = await gqlAs<{
        __schema: {
          types: Array<{ name: string; kind: string; fields: Array<{ name: string }> | null }>;
        };
      }>(
        t,
        adminA.auth,
        'introspection',
        '{ __schema { types { name kind fields(includeDeprecated: true) { name } } } }',
      );
      expect(r.body.errors).toBeUndefined();
      const types = r.body.data!.__schema.types;
      const fieldsOf = (name: string): string[] =>
        (types.find((ty) => ty.name === name)?.fields ?? []).map((f) => f.name).sort();
      expect(fieldsOf('ProviderCredential')).toEqual(
        [
          'id',
          'kind',
          'name',
          'isDefault',
          'config',
          'secretFingerprint',
          'keyVersion',
          'createdAt',
          'updatedAt',
        ].sort(),
      );
      expect(fieldsOf('ProviderCredentialTest')).toEqual(['latencyMs', 'message', 'ok']);
      const vendorSecretNames = /^(secret|apiSecret|privateKeyPem|appCertificate|managementToken)$/;
      const outputs = types
        .filter((ty) => !ty.name.startsWith('__') && ty.kind === 'OBJECT')
        .flatMap((ty) =>
          (ty.fields ?? [])
            .filter((f) => vendorSecretNames.test(f.name))
            .map((f) => `${ty.name}.${f.name}`),
        );
      // CreateApiKeyPayload.secret is the API key shown once (its own spec covers it).
      expect(outputs.filter((n) => n !== 'CreateApiKeyPayload.secret')).toEqual([]);
    });

    it('should never return a canary secret when any GraphQL response of this file is read', () => {
      expect(responses.length).toBeGreaterThan(80);
      expect(responses.some((x) => x.text.includes('"errors"'))).toBe(true);
      expect(leaks(responses)).toEqual([]);
    });

    it('should never log a canary secret when the logs of every app are read', () => {
      const lines: Array<{ label: string; text: string }> = [];
      for (const app of apps) {
        app.app.flushLogs();
        lines.push(...app.logs.map((text, i) => ({ label: `log line ${i}`, text })));
      }
      for (const logs of closedLogs)
        lines.push(...logs.map((text, i) => ({ label: `closed app log line ${i}`, text })));
      expect(lines.length).toBeGreaterThan(50);
      expect(lines.some((l) => l.text.includes('/graphql'))).toBe(true);
      expect(leaks(lines)).toEqual([]);
    });

    it('should never write a canary secret to the audit log when every audit event is read', async () => {
      const texts: Array<{ label: string; text: string }> = [];
      for (const [i, app] of apps.entries()) {
        const [row] = await app.ds.query<Array<{ n: string }>>(
          `SELECT count(*)::text AS n FROM audit_event WHERE action LIKE 'provider_credential.%'`,
        );
        expect(Number(row.n)).toBeGreaterThan(app === t ? 20 : 0);
        texts.push({ label: `audit_event of app ${i}`, text: await auditDump(app) });
      }
      expect(texts.length).toBeGreaterThanOrEqual(2); // the main app and the short-timeout one
      expect(texts.find((x) => x.text.includes(main.AGORA.id))).toBeDefined();
      expect(leaks(texts)).toEqual([]);
    });

    it('should keep no secret in plaintext when the provider_credential rows are read', async () => {
      const [all] = await t.ds.query<Array<{ s: string }>>(
        `SELECT string_agg(row_to_json(p)::text, '') AS s FROM provider_credential p`,
      );
      expect(all.s).toContain(AGORA_APP_ID);
      expect(all.s).toContain('rk1.master-test-1.');
      expect(leaks([{ label: 'provider_credential', text: all.s }])).toEqual([]);
    });
  });
});
