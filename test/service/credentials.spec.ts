import { MemberRole } from '../../src/common/auth/roles';
import { ErrorCode } from '../../src/common/errors/error-code';
import { ProviderCredentialsService } from '../../src/providers/provider-credentials.service';
import { ProviderKind } from '../../src/providers/provider-kind';
import { CredentialVault } from '../../src/providers/vault/credential-vault';
import { type SeededTenant } from '../factories/tenancy';
import { type Services, rejection, startServices } from './services';

/**
 * Vendor credentials at the service tier: sealed at rest, opened only for the vendor they are bound
 * to, managed by ADMIN and OWNER only, and tested without a vendor failure becoming an error.
 */
describe('vendor credentials (service tier)', () => {
  let s: Services;
  let tenant: SeededTenant;
  const SECRET = 'livekit-secret-for-the-service-tier-0123456789';
  const URL_A = 'https://livekit-a.service-tier.test';

  const credentials = () => s.app.get(ProviderCredentialsService);
  const admin = () => s.as(tenant, MemberRole.ADMIN);
  const livekit = () => s.vendor(ProviderKind.LIVEKIT);

  async function stored(id: string): Promise<string> {
    const [row] = await s.ds.query<Array<{ row: string }>>(
      'SELECT row_to_json(c)::text AS row FROM provider_credential c WHERE id = $1',
      [id],
    );
    return row.row;
  }

  const create = (name = 'lk') =>
    credentials().create(admin(), {
      name,
      livekit: { url: URL_A, apiKey: 'APIservicetier', apiSecret: SECRET },
    });

  beforeAll(async () => {
    s = await startServices();
  });
  afterAll(() => s?.close());

  beforeEach(async () => {
    livekit().clearCalls();
    tenant = await s.tenant();
  });

  it('should keep the secret sealed at rest and hand it, opened, only to the vendor call', async () => {
    const cred = await create();

    expect(await stored(cred.id)).not.toContain(SECRET);
    const result = await credentials().test(admin(), cred.id);
    expect(result.ok).toBe(true);
    expect(livekit().calls.map((c) => [c.op, c.secrets.apiSecret])).toEqual([
      ['checkHealth', SECRET],
    ]);
  });

  it('should report a vendor failure as a failed test, audited, without throwing', async () => {
    const cred = await create();
    livekit().failNext();

    const result = await credentials().test(admin(), cred.id);

    expect(result.ok).toBe(false);
    expect(result.message).toContain(ErrorCode.PROVIDER_UNAVAILABLE);
    const [event] = await s.ds.query<Array<{ outcome: string }>>(
      `SELECT outcome::text AS outcome FROM audit_event
        WHERE tenant_id = $1 AND action = 'provider_credential.tested'`,
      [tenant.id],
    );
    expect(event.outcome).toBe('FAILURE');
  });

  it('should refuse to move a credential to a new URL without its secret, changing nothing', async () => {
    const cred = await create();
    const before = await stored(cred.id);

    const err = await rejection(
      credentials().update(admin(), {
        id: cred.id,
        name: 'lk',
        livekit: { url: 'https://attacker.service-tier.test', apiKey: 'APIservicetier' },
      }),
    );

    expect(err.code).toBe(ErrorCode.BAD_USER_INPUT);
    expect(await stored(cred.id)).toBe(before);
  });

  it('should let only ADMIN and OWNER manage credentials', async () => {
    const member = s.as(tenant, MemberRole.MEMBER);
    const err = await rejection(
      credentials().create(member, {
        name: 'nope',
        livekit: { url: URL_A, apiKey: 'APIservicetier', apiSecret: SECRET },
      }),
    );

    expect(err.code).toBe(ErrorCode.FORBIDDEN);
    expect(await credentials().list(admin())).toEqual([]);
  });

  it("should not open another tenant's credential", async () => {
    const cred = await create();
    const other = await s.tenant();

    const err = await rejection(
      s.app.get(CredentialVault).resolve(s.as(other, MemberRole.OWNER), cred.id),
    );

    expect(err.code).toBe(ErrorCode.NOT_FOUND);
    expect(livekit().calls).toEqual([]);
  });
});
