import { loadConfig } from '../common/config';
import { OWASP_ARGON2ID, PasswordService } from './password.service';

const config = loadConfig({ NODE_ENV: 'test', ROOMKEY_DATA_DIR: 'memory://' });
const PASSWORD = 'a long enough password';

describe('PasswordService', () => {
  it('should hash with OWASP’s Argon2id baseline (19 MiB, 2 passes, 1 lane) when given no cost', async () => {
    const stored = await new PasswordService(config).hash(PASSWORD);
    expect(stored).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect(OWASP_ARGON2ID).toEqual({ memoryCost: 19_456, timeCost: 2, parallelism: 1 });
  });

  it('should hash with a given cost, and still verify a hash of either cost', async () => {
    const cheap = new PasswordService(config, { memoryCost: 1024, timeCost: 1, parallelism: 1 });
    const strong = new PasswordService(config);
    const cheapHash = await cheap.hash(PASSWORD);
    expect(cheapHash).toMatch(/^\$argon2id\$v=19\$m=1024,t=1,p=1\$/);
    const strongHash = await strong.hash(PASSWORD);
    // A hash carries its own cost: either service verifies both, and refuses a wrong password.
    for (const service of [cheap, strong]) {
      for (const stored of [cheapHash, strongHash]) {
        expect(await service.verify(stored, PASSWORD)).toBe(true);
        expect(await service.verify(stored, `${PASSWORD}!`)).toBe(false);
      }
    }
  });

  it('should refuse a password outside the policy before any hashing', async () => {
    const service = new PasswordService(config);
    await expect(service.hash('short')).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
    expect(await service.verify(null, PASSWORD)).toBe(false);
  });
});
