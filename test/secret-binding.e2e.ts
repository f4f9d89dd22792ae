/**
 * Secrets bound to their endpoint (docs/decisions.md#issue-10 item 1) and vendor echoes cleaned of secrets (item 6).
 *
 * An ADMIN who changes only the address of a credential must give its secret again; the sealed
 * envelope's AAD carries the address, so a database-level edit of the URL makes decryption fail
 * instead of sending the secret to the new host; rows sealed before the binding are migrated at
 * boot. Every "attacker" host below is a real emulator on 127.0.0.1 that records what reaches it.
 */
import { Caches } from '../src/common/cache';
import { SecretBox } from '../src/common/crypto/secret-box';
import { CredentialRebinder } from '../src/providers/vault/credential-rebinder';
import { CredentialVault } from '../src/providers/vault/credential-vault';
import { legacyFieldContext } from '../src/providers/vault/secret-binding';
import { type RecordedCall } from './emulators/faults';
import { startFishjamEmulator } from './emulators/fishjam';
import { startLiveKitEmulator } from './emulators/livekit';
import { startOpenViduEmulator } from './emulators/openvidu';
import { startPexipEmulator } from './emulators/pexip';
import { expectError } from './helpers/assertions';
import {
  CREATE_SESSION,
  type HttpKind,
  type VendorWorld,
  startVendorWorld,
} from './helpers/vendors';

const UPDATE = `mutation ($input: UpdateProviderCredentialInput!) {
  updateProviderCredential(input: $input) { id config secretFingerprint } }`;
const CREATE = `mutation ($input: CreateProviderCredentialInput!) {
  createProviderCredential(input: $input) { id } }`;
const TEST = 'mutation ($id: ID!) { testProviderCredential(id: $id) { ok message } }';

interface Attacker {
  url: string;
  calls: RecordedCall[];
  close(): Promise<void>;
}

interface KindCase {
  kind: HttpKind;
  block: 'openvidu' | 'livekit' | 'pexip' | 'fishjam';
  endpoint: string;
  secretField: string;
  secret(w: VendorWorld): string;
  /** A second vendor on 127.0.0.1 that accepts the same secret: the host an attacker points to. */
  attacker(w: VendorWorld): Promise<Attacker>;
}

const CASES: KindCase[] = [
  {
    kind: 'OPENVIDU',
    block: 'openvidu',
    endpoint: 'url',
    secretField: 'secret',
    secret: (w) => w.secrets.openvidu,
    attacker: async (w) => {
      const e = await startOpenViduEmulator({ secret: w.secrets.openvidu });
      return { url: e.url, calls: e.calls, close: () => e.close() };
    },
  },
  {
    kind: 'LIVEKIT',
    block: 'livekit',
    endpoint: 'url',
    secretField: 'apiSecret',
    secret: (w) => w.secrets.livekitSecret,
    attacker: async (w) => {
      const e = await startLiveKitEmulator({
        apiKey: w.secrets.livekitKey,
        apiSecret: w.secrets.livekitSecret,
      });
      return { url: e.url, calls: e.calls, close: () => e.close() };
    },
  },
  {
    kind: 'PEXIP',
    block: 'pexip',
    endpoint: 'apiAddress',
    secretField: 'privateKeyPem',
    secret: (w) => w.secrets.pexipPrivateKey,
    attacker: async (w) => {
      const e = await startPexipEmulator({
        clientId: w.secrets.pexipClientId,
        publicKeyPem: w.secrets.pexipPublicKey,
      });
      return { url: e.url, calls: e.calls, close: () => e.close() };
    },
  },
  {
    kind: 'FISHJAM',
    block: 'fishjam',
    endpoint: 'fishjamUrl',
    secretField: 'managementToken',
    secret: (w) => w.secrets.fishjamToken,
    attacker: async (w) => {
      const e = await startFishjamEmulator({ managementToken: w.secrets.fishjamToken });
      return { url: e.fishjamUrl, calls: e.calls, close: () => e.close() };
    },
  },
];

describe('Secrets bound to their endpoint', () => {
  let w: VendorWorld;
  const attackers: Attacker[] = [];

  beforeAll(async () => {
    w = await startVendorWorld();
  });
  afterAll(async () => {
    await Promise.all(attackers.map((a) => a.close()));
    await w?.close();
  });

  const row = async (id: string) =>
    (
      await w.t.ds.query<
        Array<{ config: Record<string, unknown>; secrets: Record<string, string>; updated: string }>
      >(
        'SELECT config, secrets, updated_at::text AS updated FROM provider_credential WHERE id = $1',
        [id],
      )
    )[0];

  /**
   * The edits below are made in the database, behind Roomkey's back: its caches would see them
   * only at their TTL. A decrypted credential cached before such an edit keeps its old endpoint,
   * so the secret still goes only where it went; these tests look at what a reload does.
   */
  const forget = (id: string): Promise<void> =>
    w.t.app.get(Caches).publish(null, { kind: 'credential', tenantId: w.a.tenant.id, id });

  const attackerFor = async (c: KindCase): Promise<Attacker> => {
    const a = await c.attacker(w);
    attackers.push(a);
    return a;
  };

  /** A fresh credential of the kind, pointing at the world's emulator, as tenant A's admin. */
  const freshCredential = async (c: KindCase, name: string): Promise<string> => {
    const inputs: Record<HttpKind, Record<string, unknown>> = {
      OPENVIDU: {
        url: w.ov.url,
        secret: w.secrets.openvidu,
        webhookSecret: w.secrets.openviduWebhook,
      },
      LIVEKIT: { url: w.lk.url, apiKey: w.secrets.livekitKey, apiSecret: w.secrets.livekitSecret },
      PEXIP: {
        apiAddress: w.px.url,
        clientId: w.secrets.pexipClientId,
        privateKeyPem: w.secrets.pexipPrivateKey,
      },
      FISHJAM: { fishjamUrl: w.fj.fishjamUrl, managementToken: w.secrets.fishjamToken },
    };
    const r = await w.t.gql<{ createProviderCredential: { id: string } }>(
      CREATE,
      { input: { name, [c.block]: inputs[c.kind] } },
      { auth: w.a.admin.auth },
    );
    expect(r.body.errors).toBeUndefined();
    return r.body.data!.createProviderCredential.id;
  };

  const testCred = async (id: string) => {
    const r = await w.t.gql<{ testProviderCredential: { ok: boolean; message: string } }>(
      TEST,
      { id },
      { auth: w.a.admin.auth },
    );
    expect(r.body.errors).toBeUndefined();
    return r.body.data!.testProviderCredential;
  };

  describe.each(CASES)('$kind', (c) => {
    it('should refuse with BAD_USER_INPUT naming the secret and change nothing when only the endpoint changes', async () => {
      const id = await freshCredential(c, `bind-refuse-${c.block}`);
      const attacker = await attackerFor(c);
      const before = await row(id);
      const r = await w.t.gql(
        UPDATE,
        { input: { id, [c.block]: { [c.endpoint]: attacker.url } } },
        { auth: w.a.admin.auth },
      );
      expectError(r, 'BAD_USER_INPUT');
      expect(r.body.errors![0].extensions?.field).toBe(c.secretField);
      expect(r.body.errors![0].message).toContain(c.endpoint);
      expect(await row(id)).toEqual(before);
      expect((await testCred(id)).ok).toBe(true);
      expect(attacker.calls).toHaveLength(0);
    });

    it('should send the secret to the new endpoint only when the secret is given again', async () => {
      const id = await freshCredential(c, `bind-move-${c.block}`);
      const attacker = await attackerFor(c);
      const r = await w.t.gql<{ updateProviderCredential: { config: Record<string, unknown> } }>(
        UPDATE,
        { input: { id, [c.block]: { [c.endpoint]: attacker.url, [c.secretField]: c.secret(w) } } },
        { auth: w.a.admin.auth },
      );
      expect(r.body.errors).toBeUndefined();
      expect(r.body.data!.updateProviderCredential.config[c.endpoint]).toBe(attacker.url);
      expect(await testCred(id)).toMatchObject({ ok: true });
      expect(attacker.calls.length).toBeGreaterThan(0);
    });

    it('should refuse to use the secret and call no host when the endpoint is edited in the database', async () => {
      const id = await freshCredential(c, `bind-db-${c.block}`);
      const attacker = await attackerFor(c);
      await w.t.ds.query(
        `UPDATE provider_credential SET config = jsonb_set(config, $2, to_jsonb($3::text)),
           updated_at = now() WHERE id = $1`,
        [id, `{${c.endpoint}}`, attacker.url],
      );
      await forget(id);
      const result = await testCred(id);
      expect(result.ok).toBe(false);
      expect(result.message).toMatch(/^PROVIDER_UNAVAILABLE: .*secret/);
      const session = await w.t.gql(
        CREATE_SESSION,
        { input: { provider: c.kind, credentialId: id } },
        { auth: w.a.admin.auth },
      );
      expectError(session, 'PROVIDER_UNAVAILABLE');
      expect(attacker.calls).toHaveLength(0);
      expect(JSON.stringify(w.t.logs)).not.toContain(c.secret(w));
    });
  });

  it('should keep the OpenVidu webhook secret usable when the url moves with a new secret', async () => {
    const c = CASES[0];
    const id = await freshCredential(c, 'bind-webhook');
    const attacker = await attackerFor(c);
    const r = await w.t.gql(
      UPDATE,
      { input: { id, openvidu: { url: attacker.url, secret: w.secrets.openvidu } } },
      { auth: w.a.admin.auth },
    );
    expect(r.body.errors).toBeUndefined();
    const vault = w.t.app.get(CredentialVault);
    const cred = await vault.resolve({ tenantId: w.a.tenant.id }, id);
    expect(cred.secrets.webhookSecret).toBe(w.secrets.openviduWebhook);
    expect(cred.secrets.secret).toBe(w.secrets.openvidu);
  });

  describe('rows sealed before the binding', () => {
    /** Re-seals a credential's secrets the way they were stored before this change. */
    const makeLegacy = async (id: string, tenantId: string): Promise<Record<string, string>> => {
      const box = w.t.app.get(SecretBox);
      const vault = w.t.app.get(CredentialVault);
      const plain = (await vault.resolve({ tenantId }, id)).secrets;
      const legacy = Object.fromEntries(
        Object.entries(plain).map(([f, v]) => [
          f,
          box.seal(v, legacyFieldContext(tenantId, id, f)),
        ]),
      );
      await w.t.ds.query(
        'UPDATE provider_credential SET secrets = $2, updated_at = now() WHERE id = $1',
        [id, JSON.stringify(legacy)],
      );
      await forget(id);
      return legacy;
    };

    it('should migrate every legacy row at boot and then bind it to its endpoint', async () => {
      const ids = await Promise.all(CASES.map((c) => freshCredential(c, `legacy-${c.block}`)));
      const legacy = await Promise.all(ids.map((id) => makeLegacy(id, w.a.tenant.id)));
      // Fail closed until migrated: a legacy envelope does not open under the bound context.
      expect((await testCred(ids[0])).ok).toBe(false);

      const migrated = await w.t.app.get(CredentialRebinder).rebindAll();
      expect(migrated).toBeGreaterThanOrEqual(ids.length);
      for (const [i, id] of ids.entries()) {
        const after = await row(id);
        for (const field of Object.keys(legacy[i])) {
          expect(after.secrets[field]).toMatch(/^rk1\./);
          expect(after.secrets[field]).not.toBe(legacy[i][field]);
        }
        expect((await testCred(id)).ok).toBe(true);
      }
      // Idempotent: nothing left to migrate.
      expect(await w.t.app.get(CredentialRebinder).rebindAll()).toBe(0);

      // Once bound, a database-level edit of the address no longer opens the secret.
      const attacker = await attackerFor(CASES[3]);
      await w.t.ds.query(
        `UPDATE provider_credential SET config = jsonb_set(config, '{fishjamUrl}', to_jsonb($2::text)),
           updated_at = now() WHERE id = $1`,
        [ids[3], attacker.url],
      );
      await forget(ids[3]);
      expect((await testCred(ids[3])).ok).toBe(false);
      expect(attacker.calls).toHaveLength(0);
    });

    it('should leave alone and refuse a row whose legacy secret was moved to another endpoint before migration', async () => {
      const c = CASES[0];
      const id = await freshCredential(c, 'legacy-broken');
      await makeLegacy(id, w.a.tenant.id);
      // Ciphertext from another credential: opens under neither context of this row.
      const other = await row(w.a.creds.OPENVIDU);
      await w.t.ds.query('UPDATE provider_credential SET secrets = $2 WHERE id = $1', [
        id,
        JSON.stringify(other.secrets),
      ]);
      await forget(id);
      const before = await row(id);
      await w.t.app.get(CredentialRebinder).rebindAll();
      expect((await row(id)).secrets).toEqual(before.secrets);
      expect((await testCred(id)).ok).toBe(false);
    });
  });
});

describe('Vendor messages cleaned of the secrets in use', () => {
  let w: VendorWorld;
  const SHORT = 'Sh0rt!';

  beforeAll(async () => {
    w = await startVendorWorld();
  });
  afterAll(async () => {
    await w?.close();
  });

  const echoes = (secret: string, user = 'OPENVIDUAPP'): string[] => [
    secret,
    Buffer.from(secret).toString('base64'),
    Buffer.from(`${user}:${secret}`).toString('base64'),
    `Basic ${Buffer.from(`${user}:${secret}`).toString('base64')}`,
    encodeURIComponent(secret),
  ];

  const expectClean = (text: string, secret: string, user?: string): void => {
    for (const form of echoes(secret, user)) expect(text).not.toContain(form);
  };

  it('should remove a short OpenVidu secret in raw, base64 and Basic forms from every answer, log and audit event', async () => {
    const ov = await startOpenViduEmulator({ secret: SHORT });
    try {
      const created = await w.t.gql<{ createProviderCredential: { id: string } }>(
        CREATE,
        { input: { name: 'short-secret', openvidu: { url: ov.url, secret: SHORT } } },
        { auth: w.a.admin.auth },
      );
      expect(created.body.errors).toBeUndefined();
      const id = created.body.data!.createProviderCredential.id;
      const echo = `wrong auth ${echoes(SHORT).join(' | ')}`;
      ov.faults.set({ status: 401, body: JSON.stringify({ message: echo }) });

      const tested = await w.t.gql<{ testProviderCredential: { ok: boolean; message: string } }>(
        TEST,
        { id },
        { auth: w.a.admin.auth },
      );
      expect(tested.body.data!.testProviderCredential.ok).toBe(false);
      expect(tested.body.data!.testProviderCredential.message).toContain('[secret]');
      expectClean(tested.text, SHORT);

      const session = await w.t.gql(
        CREATE_SESSION,
        { input: { provider: 'OPENVIDU', credentialId: id } },
        { auth: w.a.admin.auth },
      );
      expectError(session, 'PROVIDER_REJECTED');
      expect(session.body.errors![0].message).toContain('[secret]');
      expectClean(session.text, SHORT);

      const compat = await w.t
        .http()
        .post(`/t/${w.a.tenant.slug}/openvidu/api/sessions?credential=${id}`)
        .set('authorization', w.a.adminKey)
        .send({});
      expect(compat.status).toBe(502);
      expectClean(compat.text, SHORT);

      expect(ov.calls.length).toBeGreaterThanOrEqual(3);
      expectClean(w.t.logs.join('\n'), SHORT);
      const events = await w.t.ds.query<Array<{ m: string }>>(
        'SELECT metadata::text AS m FROM audit_event WHERE tenant_id = $1',
        [w.a.tenant.id],
      );
      expectClean(events.map((e) => e.m).join('\n'), SHORT);
    } finally {
      await ov.close();
    }
  });

  it('should remove an echoed Fishjam management token and Pexip access token from the message', async () => {
    w.fj.faults.set({
      status: 400,
      body: JSON.stringify({ errors: `token ${w.secrets.fishjamToken} is not allowed` }),
    });
    const fj = await w.t.gql<{ testProviderCredential: { message: string } }>(
      TEST,
      { id: w.a.creds.FISHJAM },
      { auth: w.a.admin.auth },
    );
    expect(fj.body.data!.testProviderCredential.message).toContain('[secret]');
    expect(fj.text).not.toContain(w.secrets.fishjamToken);
    w.fj.faults.clear();

    // Pexip: the access token from the exchange is what is sent; echo it back on a meeting call.
    const session = await w.t.gql<{ createSession: { id: string } }>(
      CREATE_SESSION,
      { input: { provider: 'PEXIP' } },
      { auth: w.a.admin.auth },
    );
    expect(session.body.errors).toBeUndefined();
    const sent = w.px.calls
      .map((call) => call.headers.authorization)
      .find((h): h is string => typeof h === 'string' && /^Bearer /.test(h));
    expect(sent).toBeDefined();
    const token = sent!.replace(/^Bearer /, '');
    w.px.faults.set({ status: 403, body: `denied for ${sent}` });
    const again = await w.t.gql(
      CREATE_SESSION,
      { input: { provider: 'PEXIP' } },
      { auth: w.a.admin.auth },
    );
    expect(again.body.errors).toBeDefined();
    expect(again.text).not.toContain(token);
    w.px.faults.clear();
  });
});
