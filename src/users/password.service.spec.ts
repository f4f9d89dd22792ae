import { loadConfig } from '../common/config';
import { PasswordService } from './password.service';

const config = loadConfig({ NODE_ENV: 'test', ROOMKEY_DATA_DIR: 'memory://' });
const PASSWORD = 'a long enough password';

describe('PasswordService', () => {
  const service = new PasswordService(config);

  it('should hash with OWASP’s Argon2id baseline: 19 MiB, 2 passes, 1 lane', async () => {
    expect(await service.hash(PASSWORD)).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
  });

  it('should verify the password it hashed and refuse any other, and its NFC twin alike', async () => {
    const stored = await service.hash('Ame\u0301lie-password-1'); // NFD
    expect(await service.verify(stored, 'Ame\u0301lie-password-1')).toBe(true);
    expect(await service.verify(stored, 'Am\u00e9lie-password-1')).toBe(true); // NFC
    expect(await service.verify(stored, 'Amelie-password-1')).toBe(false);
  });

  it('should refuse a password outside the policy before hashing, and fail an absent hash', async () => {
    await expect(service.hash('short')).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
    expect(await service.verify(null, PASSWORD)).toBe(false);
  });

  describe("with the test suite's cheap hashing (ROOMKEY_TEST_FAST_PASSWORD_HASH)", () => {
    const fast = new PasswordService(
      loadConfig({
        NODE_ENV: 'test',
        ROOMKEY_DATA_DIR: 'memory://',
        ROOMKEY_TEST_FAST_PASSWORD_HASH: 'true',
      }),
    );

    it('should hash with Argon2id at 64 KiB and 1 pass, and verify like the baseline', async () => {
      const stored = await fast.hash(PASSWORD);
      expect(stored).toMatch(/^\$argon2id\$v=19\$m=64,t=1,p=1\$/);
      expect(await fast.verify(stored, PASSWORD)).toBe(true);
      expect(await fast.verify(stored, `${PASSWORD}!`)).toBe(false);
      expect(await fast.verify(null, PASSWORD)).toBe(false);
    });

    it('should verify a baseline hash too: the cost travels in the stored hash', async () => {
      const stored = await service.hash(PASSWORD);
      expect(await fast.verify(stored, PASSWORD)).toBe(true);
    });
  });
});
