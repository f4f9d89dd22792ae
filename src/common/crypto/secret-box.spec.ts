import { type AppConfig, loadConfig } from '../config';
import { KeyStore } from '../keys/key-store';
import { SecretBox, SecretBoxError } from './secret-box';

const key = (fill: number) => Buffer.alloc(32, fill).toString('base64');

function box(masterKeys: string): SecretBox {
  const config: AppConfig = loadConfig({
    ROOMKEY_DATA_DIR: 'memory://',
    ROOMKEY_MASTER_KEYS: masterKeys,
  });
  return new SecretBox(new KeyStore(config));
}

describe('SecretBox', () => {
  const one = box(`k1:${key(1)}`);

  it('should round-trip a value when the context matches', () => {
    const sealed = one.seal('s3cret-value', 'tenant-a|cred-1|secret');
    expect(sealed).toMatch(/^rk1\.k1\./);
    expect(sealed).not.toContain('s3cret');
    expect(one.openString(sealed, 'tenant-a|cred-1|secret')).toBe('s3cret-value');
  });

  it('should produce different ciphertexts for the same value when sealed twice', () => {
    expect(one.seal('x', 'c')).not.toBe(one.seal('x', 'c'));
  });

  it('should refuse to open when the ciphertext is moved to another row or tenant (AAD)', () => {
    const sealed = one.seal('s3cret-value', 'tenant-a|cred-1|secret');
    expect(() => one.open(sealed, 'tenant-b|cred-1|secret')).toThrow(SecretBoxError);
    expect(() => one.open(sealed, 'tenant-a|cred-2|secret')).toThrow(SecretBoxError);
    expect(() => one.open(sealed, 'tenant-a|cred-1|other')).toThrow(SecretBoxError);
  });

  it('should refuse to open when any byte is altered', () => {
    const sealed = one.seal('s3cret-value', 'ctx');
    const parts = sealed.split('.');
    const body = Buffer.from(parts[3], 'base64url');
    body[body.length - 1] ^= 1;
    parts[3] = body.toString('base64url');
    expect(() => one.open(parts.join('.'), 'ctx')).toThrow(SecretBoxError);
    expect(() => one.open('garbage', 'ctx')).toThrow(SecretBoxError);
  });

  it('should re-wrap under the newest key when the master key rotates, and still open', () => {
    const sealed = one.seal('s3cret-value', 'ctx');
    const rotated = box(`k2:${key(2)},k1:${key(1)}`);
    expect(rotated.openString(sealed, 'ctx')).toBe('s3cret-value');
    const rewrapped = rotated.rewrap(sealed, 'ctx');
    expect(rotated.keyIdOf(rewrapped)).toBe('k2');
    expect(rewrapped.split('.')[3]).toBe(sealed.split('.')[3]); // the value's ciphertext is untouched
    expect(rotated.openString(rewrapped, 'ctx')).toBe('s3cret-value');
    expect(rotated.rewrap(rewrapped, 'ctx')).toBe(rewrapped);
    // Once the old key is retired, only the re-wrapped value opens.
    const retired = box(`k2:${key(2)}`);
    expect(retired.openString(rewrapped, 'ctx')).toBe('s3cret-value');
    expect(() => retired.open(sealed, 'ctx')).toThrow(/Unknown master key/);
  });

  it('should give a stable keyed fingerprint that differs by context and key material', () => {
    expect(one.fingerprint('abc', 'ctx')).toBe(one.fingerprint('abc', 'ctx'));
    expect(one.fingerprint('abc', 'ctx')).not.toBe(one.fingerprint('abd', 'ctx'));
    expect(one.fingerprint('abc', 'ctx')).not.toBe(one.fingerprint('abc', 'other'));
    expect(one.fingerprint('abc', 'ctx')).not.toBe(box(`k9:${key(9)}`).fingerprint('abc', 'ctx'));
  });
});
