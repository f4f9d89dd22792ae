import { randomBytes } from 'node:crypto';
import {
  getNamedType,
  type GraphQLNamedType,
  type GraphQLSchema,
  isAbstractType,
  isInputObjectType,
  isInterfaceType,
  isLeafType,
  isNonNullType,
  isObjectType,
} from 'graphql';
import { GraphQLSchemaHost } from '@nestjs/graphql';
import { TenantsService } from '../src/tenants/tenants.service';
import { PasswordService } from '../src/users/password.service';
import {
  ADMIN_EMAIL,
  ADMIN_PASSWORD,
  ADMIN_TENANT,
  basic,
  errorCode,
  type GqlOptions,
  type GqlResult,
  startTestApp,
  type TestApp,
} from './helpers/test-app';
import { seedTenant } from './factories/tenancy';

/** docs/security.md S10 (and S7): no secret leaves through a response, the schema or a log line. */

const uniq = (): string => randomBytes(6).toString('hex');

/** Output fields whose names look like credentials, allowed because returning them is their purpose. */
/**
 * The one field that returns a secret (once, at creation), and fields that only describe a secret:
 * whether one is stored, and its keyed fingerprint (docs/product.md#vendor-credentials: `secretFingerprint`).
 */
const SECRET_FIELD_ALLOW_LIST = new Set([
  'CreateApiKeyPayload.secret',
  'IdentityProvider.hasClientSecret',
  'IdentityProvider.secretFingerprint',
  'ProviderCredential.secretFingerprint',
  // Join credentials (docs/product.md#sessions-and-join-credentials): issued to the caller once by createConnection or
  // createParticipant, never stored and never readable again (test/sessions.e2e-spec.ts).
  'PexipCredential.participantSecret',
  'Participant.participantSecret',
  'Red5Credential.password',
]);
/** Output fields that carry a password by contract: a Red5 join credential, returned once. */
const PASSWORD_OUTPUT_ALLOW_LIST = ['Red5Credential.password'];
/** secret, secretHash, password, passwordHash, pwd…; plain `hash` (the audit chain) is public by design. */
const SECRET_FIELD_NAME = /secret|passw|pwd/i;

const ADD_MEMBER =
  'mutation ($input: AddMemberInput!) { addMember(input: $input) { id role user { id email } } }';
const CREATE_KEY =
  'mutation ($input: CreateApiKeyInput!) { createApiKey(input: $input) { secret apiKey { id keyId role status } } }';

interface Recorded {
  label: string;
  text: string;
  body: { errors?: GqlResult['body']['errors'] };
}

/** A selection of every field reachable from `type` (fields with required arguments skipped). */
function selectAll(schema: GraphQLSchema, type: GraphQLNamedType, depth: number): string {
  if (isLeafType(type)) return '';
  if (depth <= 0) return '{ __typename }';
  if (isAbstractType(type)) {
    const parts = schema
      .getPossibleTypes(type)
      .map((p) => `... on ${p.name} ${selectAll(schema, p, depth)}`);
    return `{ __typename ${parts.join(' ')} }`;
  }
  if (!isObjectType(type) && !isInterfaceType(type)) return '';
  const fields = Object.values(type.getFields())
    .filter((f) => f.args.every((a) => !isNonNullType(a.type) || a.defaultValue !== undefined))
    .map((f) => `${f.name} ${selectAll(schema, getNamedType(f.type), depth - 1)}`);
  return `{ __typename ${fields.join(' ')} }`;
}

describe('secrets never leave', () => {
  let t: TestApp;
  const recorded: Recorded[] = [];
  let keySecret: string;
  let keyAuth: string;
  let createKeyText: string;
  const memberPassword = `canary-password-${uniq()}`;
  const memberEmail = `canary-${uniq()}@secrets.test`;
  const memberAuth = (): string => basic(memberEmail, memberPassword);
  const adminPasswordB = `canary-admin-pw:${uniq()}`;
  const adminEmailB = `admin-b-${uniq()}@secrets.test`;

  /** Calls GraphQL and keeps the raw response text for the leak checks. */
  const call = async <T = Record<string, unknown>>(
    label: string,
    query: string,
    variables: Record<string, unknown> = {},
    opts: GqlOptions = {},
  ): Promise<GqlResult<T>> => {
    const r = await t.gql<T>(query, variables, opts);
    recorded.push({ label, text: r.text, body: { errors: r.body.errors } });
    return r;
  };

  /** Every string that must never appear outside its one legitimate place. */
  const forbiddenStrings = async (): Promise<Array<[string, string]>> => {
    const out: Array<[string, string]> = [
      ['API key secret', keySecret],
      ['admin password', ADMIN_PASSWORD],
      ['member password', memberPassword],
      ['second member password', adminPasswordB],
      ['member Authorization value', memberAuth().slice('Basic '.length)],
      ['admin Authorization value', t.adminAuth.slice('Basic '.length)],
      ['API key Authorization value', keyAuth.slice('Basic '.length)],
    ];
    const users = await t.ds.query<Array<{ email: string; password_hash: string }>>(
      'SELECT email, password_hash FROM app_user WHERE password_hash IS NOT NULL',
    );
    expect(users.length).toBeGreaterThanOrEqual(3);
    for (const u of users) {
      out.push([`password hash of ${u.email}`, u.password_hash]);
      const parts = u.password_hash.split('$');
      out.push([`password hash digest of ${u.email}`, parts[parts.length - 1]]);
      out.push([`password hash salt of ${u.email}`, parts[parts.length - 2]]);
    }
    const keys = await t.ds.query<Array<{ key_id: string; hex: string }>>(
      "SELECT key_id, encode(secret_hash, 'hex') AS hex FROM api_key",
    );
    expect(keys.length).toBeGreaterThan(0);
    for (const k of keys) {
      const raw = Buffer.from(k.hex, 'hex');
      out.push([`secret hash (hex) of ${k.key_id}`, k.hex]);
      out.push([`secret hash (HEX) of ${k.key_id}`, k.hex.toUpperCase()]);
      out.push([`secret hash (base64) of ${k.key_id}`, raw.toString('base64')]);
      out.push([`secret hash (base64url) of ${k.key_id}`, raw.toString('base64url')]);
    }
    for (const [name, value] of out)
      expect({ name, length: value.length >= 8 }).toEqual({ name, length: true });
    return out;
  };

  const leaksIn = (
    texts: Array<{ label: string; text: string }>,
    secrets: Array<[string, string]>,
  ): string[] =>
    texts.flatMap(({ label, text }) =>
      secrets.filter(([, value]) => text.includes(value)).map(([name]) => `${name} in ${label}`),
    );

  beforeAll(async () => {
    t = await startTestApp();

    const key = await call<{ createApiKey: { secret: string; apiKey: { keyId: string } } }>(
      'createApiKey',
      CREATE_KEY,
      { input: { name: 'canary key', role: 'ADMIN' } },
      { auth: t.adminAuth },
    );
    expect(key.body.errors).toBeUndefined();
    keySecret = key.body.data!.createApiKey.secret;
    keyAuth = basic(key.body.data!.createApiKey.apiKey.keyId, keySecret);
    createKeyText = key.text;
    recorded.pop(); // the one response allowed to carry the secret, checked on its own

    for (const [email, password, role] of [
      [memberEmail, memberPassword, 'MEMBER'],
      [adminEmailB, adminPasswordB, 'ADMIN'],
    ]) {
      const r = await call(
        'addMember',
        ADD_MEMBER,
        { input: { email, password, role } },
        { auth: t.adminAuth },
      );
      expect(r.body.errors).toBeUndefined();
    }
  });
  afterAll(() => t.close());

  describe('responses', () => {
    it('should return the API key secret in the createApiKey response when the key is created', () => {
      expect(keySecret.length).toBeGreaterThanOrEqual(32);
      expect(createKeyText.split(keySecret).length - 1).toBe(1);
    });

    it('should never return a secret, password or hash when every query is asked for every field', async () => {
      const schema = t.app.get(GraphQLSchemaHost).schema;
      const queryType = schema.getQueryType()!;
      const rootFields = Object.values(queryType.getFields()).filter((f) =>
        f.args.every((a) => !isNonNullType(a.type) || a.defaultValue !== undefined),
      );
      expect(rootFields.map((f) => f.name)).toEqual(
        expect.arrayContaining(['me', 'tenant', 'members', 'apiKeys']),
      );

      const principals: Array<[string, string]> = [
        ['platform admin (password)', t.adminAuth],
        ['ADMIN API key', keyAuth],
        ['MEMBER (password)', memberAuth()],
        ['ADMIN (password)', basic(adminEmailB, adminPasswordB)],
      ];
      for (const [who, auth] of principals) {
        for (const f of rootFields) {
          const query = `{ ${f.name} ${selectAll(schema, getNamedType(f.type), 5)} }`;
          const r = await call(`${f.name} as ${who}`, query, {}, { auth });
          // The four contract queries must really answer (other queries may refuse some roles).
          const mustAnswer =
            who === 'MEMBER (password)' ? ['me', 'tenant'] : ['me', 'tenant', 'members', 'apiKeys'];
          if (mustAnswer.includes(f.name)) {
            expect({ query: f.name, who, errors: r.body.errors }).toEqual({
              query: f.name,
              who,
              errors: undefined,
            });
          }
        }
      }
      // The listings really did include the rows whose secrets we look for.
      const keysAsAdmin = recorded.find((x) => x.label === 'apiKeys as platform admin (password)');
      expect(keysAsAdmin?.text).toContain('canary key');
      const membersAsAdmin = recorded.find(
        (x) => x.label === 'members as platform admin (password)',
      );
      expect(membersAsAdmin?.text).toContain(memberEmail);

      expect(leaksIn(recorded, await forbiddenStrings())).toEqual([]);
    });

    it('should never echo a secret when authentication fails', async () => {
      const wrong = await call(
        'me with wrong key secret',
        '{ me { role } }',
        {},
        { auth: basic(keyIdOf(keyAuth), `${keySecret}x`) },
      );
      expect(errorCode(wrong)).toBe('UNAUTHENTICATED');
      const wrongPw = await call(
        'me with wrong password',
        '{ me { role } }',
        {},
        { auth: basic(memberEmail, `${memberPassword}x`) },
      );
      expect(errorCode(wrongPw)).toBe('UNAUTHENTICATED');
      expect(leaksIn(recorded.slice(-2), await forbiddenStrings())).toEqual([]);
    });
  });

  describe('schema', () => {
    it('should expose no output field named like a secret or password when the schema is introspected', async () => {
      const r = await t.gql<{
        __schema: {
          types: Array<{ name: string; kind: string; fields: Array<{ name: string }> | null }>;
        };
      }>(
        '{ __schema { types { name kind fields(includeDeprecated: true) { name } } } }',
        {},
        { auth: t.adminAuth },
      );
      expect(r.body.errors).toBeUndefined();
      const types = (r.body.data?.__schema.types ?? []).filter(
        (ty) => !ty.name.startsWith('__') && (ty.kind === 'OBJECT' || ty.kind === 'INTERFACE'),
      );
      expect(types.map((ty) => ty.name)).toEqual(
        expect.arrayContaining(['ApiKey', 'User', 'Member', 'Me']),
      );

      const suspicious = types.flatMap((ty) =>
        (ty.fields ?? [])
          .filter((f) => SECRET_FIELD_NAME.test(f.name))
          .map((f) => `${ty.name}.${f.name}`),
      );
      expect(suspicious).toContain('CreateApiKeyPayload.secret'); // the pattern does match what it should
      expect(suspicious.filter((name) => !SECRET_FIELD_ALLOW_LIST.has(name))).toEqual([]);
    });

    it('should keep password fields on input types only when the schema is built', () => {
      const schema = t.app.get(GraphQLSchemaHost).schema;
      const passwordInputs = Object.values(schema.getTypeMap())
        .filter(isInputObjectType)
        .flatMap((ty) =>
          Object.keys(ty.getFields())
            .filter((n) => /password/i.test(n))
            .map((n) => `${ty.name}.${n}`),
        );
      expect(passwordInputs).toContain('AddMemberInput.password');
      const outputs = Object.values(schema.getTypeMap())
        .filter((ty) => !ty.name.startsWith('__') && (isObjectType(ty) || isInterfaceType(ty)))
        .flatMap((ty) =>
          Object.keys((ty as { getFields(): Record<string, unknown> }).getFields())
            .filter((n) => /password/i.test(n))
            .map((n) => `${ty.name}.${n}`),
        );
      expect(outputs).toEqual(PASSWORD_OUTPUT_ALLOW_LIST);
    });
  });

  describe('internal errors', () => {
    const ALLOWED_EXTENSIONS = new Set(['code', 'field']);

    const expectMasked = (r: GqlResult, canaries: string[]): void => {
      expect(errorCode(r)).toBe('INTERNAL_SERVER_ERROR');
      for (const e of r.body.errors ?? []) {
        expect(Object.keys(e.extensions ?? {}).filter((k) => !ALLOWED_EXTENSIONS.has(k))).toEqual(
          [],
        );
        expect(
          Object.keys(e).filter((k) => !['message', 'locations', 'path', 'extensions'].includes(k)),
        ).toEqual([]);
      }
      for (const word of [
        'stacktrace',
        'originalError',
        'exception',
        '.ts:',
        'node_modules',
        ...canaries,
      ]) {
        expect({ word, found: r.text.includes(word) }).toEqual({ word, found: false });
      }
    };

    it('should answer a bare INTERNAL_SERVER_ERROR without stack or cause when a service throws unexpectedly', async () => {
      const canary = `internal-detail-${uniq()}`;
      const spy = jest
        .spyOn(t.app.get(TenantsService), 'current')
        .mockRejectedValueOnce(new Error(`database password is ${canary}`));
      try {
        const r = await call(
          'tenant with an internal error',
          '{ tenant { id slug } }',
          {},
          { auth: t.adminAuth },
        );
        expect(spy).toHaveBeenCalled();
        expectMasked(r, [canary]);
        expect(r.body.errors?.[0].message).toBe('Internal server error');
      } finally {
        spy.mockRestore();
      }
    });

    it('should answer a bare INTERNAL_SERVER_ERROR without SQL when a database query fails', async () => {
      await t.ds.query('ALTER TABLE api_key RENAME TO api_key_hidden_for_test');
      let r: GqlResult;
      try {
        r = await call(
          'apiKeys with a broken table',
          '{ apiKeys { nodes { id } } }',
          {},
          { auth: t.adminAuth },
        );
      } finally {
        await t.ds.query('ALTER TABLE api_key_hidden_for_test RENAME TO api_key');
      }
      expectMasked(r, ['SELECT', 'api_key', 'relation', 'tenant_id']);
    });

    it('should carry only code and field in extensions when any recorded response has errors', () => {
      const errors = recorded.flatMap((x) =>
        (x.body.errors ?? []).map((e) => ({ label: x.label, e })),
      );
      expect(errors.length).toBeGreaterThan(0);
      const extra = errors.flatMap(({ label, e }) =>
        Object.keys(e.extensions ?? {})
          .filter((k) => !ALLOWED_EXTENSIONS.has(k))
          .map((k) => `${label}: ${k}`),
      );
      expect(extra).toEqual([]);
    });
  });

  describe('logs', () => {
    /**
     * Nest's Logger writes each line when it is logged (no bufferLogs); the scans still flush
     * first, so they would see every line even if buffering came back.
     */
    const allLogs = (): string[] => {
      t.app.flushLogs();
      return t.logs;
    };

    it("should capture the application's own log lines when it logs through Nest's Logger", () => {
      // FirstStartService logs "Created platform administrator …" while the app starts.
      expect(t.logs.filter((line) => line.includes('Created platform administrator'))).toHaveLength(
        1,
      );
    });

    it('should log no secret, password, hash or Authorization value when Basic sign-ins succeed and fail', async () => {
      const tenant = await seedTenant(t);
      const unknownUser = basic(`nobody-${uniq()}@secrets.test`, memberPassword);
      const attempts: Array<[string, string, Record<string, string>?]> = [
        ['member password', memberAuth()],
        ['API key', keyAuth],
        ['wrong password', basic(memberEmail, `${memberPassword}-wrong`)],
        ['unknown user', unknownUser],
        ['wrong key secret', basic(keyIdOf(keyAuth), `${keySecret}x`)],
        ['no colon', `Basic ${Buffer.from(`${memberEmail}${memberPassword}`).toString('base64')}`],
        ['control characters', basic(memberEmail, `${memberPassword}\r\n`)],
        ['foreign tenant header', memberAuth(), { 'X-Roomkey-Tenant': tenant.slug }],
        ['bad tenant header', memberAuth(), { 'X-Roomkey-Tenant': `${memberPassword}!` }],
      ];
      const outcomes: string[] = [];
      for (const [label, auth, headers] of attempts) {
        const r = await call(`me (${label})`, '{ me { role } }', {}, { auth, headers });
        outcomes.push(r.body.errors ? (errorCode(r) ?? 'error') : 'ok');
      }
      expect(outcomes).toEqual([
        'ok',
        'ok',
        ...Array<string>(attempts.length - 2).fill('UNAUTHENTICATED'),
      ]);

      const shortPassword = `Sh0rt:${uniq().slice(0, 4)}`;
      const tooShort = await call(
        'addMember with a short password',
        ADD_MEMBER,
        {
          input: { email: `short-${uniq()}@secrets.test`, password: shortPassword, role: 'MEMBER' },
        },
        { auth: t.adminAuth },
      );
      expect(errorCode(tooShort)).toBe('BAD_USER_INPUT');
      expect(tooShort.body.errors?.[0].extensions?.field).toBe('password');

      const secrets: Array<[string, string]> = [
        ...(await forbiddenStrings()),
        ['too-short password', shortPassword],
        ['unknown-user Authorization value', unknownUser.slice('Basic '.length)],
        ...attempts.map(([label, auth]): [string, string] => [
          `Authorization value (${label})`,
          auth,
        ]),
      ];

      const logs = allLogs();
      expect(logs.length).toBeGreaterThan(0);
      const parsed = logs.map((line) => JSON.parse(line) as { req?: { path?: string } });
      expect(parsed.filter((l) => l.req?.path === '/graphql').length).toBeGreaterThanOrEqual(
        attempts.length,
      );
      expect(
        leaksIn(
          logs.map((text, i) => ({ label: `log line ${i}`, text })),
          secrets,
        ),
      ).toEqual([]);
      expect(logs.filter((line) => /\$argon2(id|i|d)\$/.test(line))).toEqual([]);
      expect(logs.filter((line) => /authorization/i.test(line) && /basic /i.test(line))).toEqual(
        [],
      );
    });

    describe('when the same new email is added to two tenants at once', () => {
      const password = `race-password-${uniq()}`;
      let codes: Array<string | undefined>;
      let hashCalls = 0;

      beforeAll(async () => {
        const one = await seedTenant(t);
        const two = await seedTenant(t);
        const email = `race-${uniq()}@secrets.test`;

        // Hold the first hashing until the second request has hashed too, so both requests look
        // the email up before either inserts it. PGlite runs one transaction at a time, so there
        // the second cannot arrive until the first commits: wait briefly there, long on PostgreSQL.
        const waitForSecondMs = t.config.database.url ? 10_000 : 300;
        const passwords = t.app.get(PasswordService);
        const realHash = passwords.hash.bind(passwords);
        let parked: (() => void) | null = null;
        const spy = jest.spyOn(passwords, 'hash').mockImplementation(async (pw: string) => {
          hashCalls++;
          const hashed = await realHash(pw);
          if (parked) {
            parked();
            parked = null;
          } else {
            await new Promise<void>((resolve) => {
              const timer = setTimeout(resolve, waitForSecondMs);
              parked = () => {
                clearTimeout(timer);
                resolve();
              };
            });
          }
          return hashed;
        });
        try {
          const results = await Promise.all(
            [one, two].map((tenant) =>
              call(
                'concurrent addMember',
                ADD_MEMBER,
                { input: { email, password, role: 'MEMBER' } },
                {
                  auth: tenant.owner.auth,
                },
              ),
            ),
          );
          codes = results.map((r) => (r.body.errors ? errorCode(r) : 'ok')).sort();
        } finally {
          spy.mockRestore();
        }
      });

      it('should answer CONFLICT to one request, never INTERNAL_SERVER_ERROR, when both race', () => {
        expect(hashCalls).toBeGreaterThanOrEqual(1);
        // A password cannot be set on an account that now exists: CONFLICT, as when run one by one.
        expect(codes).toEqual(['CONFLICT', 'ok']);
      });

      it('should log no password hash and no password when the losing insert fails', () => {
        const logs = allLogs();
        const withHash = logs.filter((line) => /\$argon2(id|i|d)\$/.test(line));
        expect(
          withHash.map((line) => line.replace(/^.*?("parameters")/, '…$1').slice(0, 400)),
        ).toEqual([]);
        expect(logs.filter((line) => line.includes(password))).toEqual([]);
      });
    });

    it('should never have logged the bootstrap admin credentials when the app started', () => {
      const joined = allLogs().join('\n');
      expect(joined).toContain(ADMIN_EMAIL); // the first-start line names the admin, so capture works
      expect(joined).toContain(ADMIN_TENANT);
      expect(joined.includes(ADMIN_PASSWORD)).toBe(false);
    });
  });

  describe('database at rest', () => {
    it('should store no plaintext secret or password and no hash outside its own column when every table is read', async () => {
      const tables = await t.ds.query<Array<{ table_name: string }>>(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'",
      );
      expect(tables.map((x) => x.table_name)).toEqual(
        expect.arrayContaining(['app_user', 'api_key', 'membership']),
      );
      const secrets = await forbiddenStrings();
      const plaintext = secrets.filter(([name]) => !name.includes('hash'));
      const hashes = secrets.filter(([name]) => name.includes('hash'));
      const found: string[] = [];
      for (const { table_name: table } of tables) {
        const rows = await t.ds.query<Array<{ row: string }>>(
          `SELECT row_to_json(x)::text AS row FROM "${table}" x`,
        );
        const texts = rows.map((r, i) => ({ label: `${table} row ${i}`, text: r.row }));
        found.push(...leaksIn(texts, plaintext));
        // Each hash belongs in exactly one place: app_user.password_hash or api_key.secret_hash.
        if (table !== 'app_user' && table !== 'api_key') found.push(...leaksIn(texts, hashes));
      }
      expect(found).toEqual([]);
    });
  });
});

function keyIdOf(auth: string): string {
  return Buffer.from(auth.slice('Basic '.length), 'base64').toString('utf8').split(':')[0];
}
