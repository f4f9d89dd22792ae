import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { KeyStore } from '../keys/key-store';

const VERSION = 'rk1';
const IV = 12;
const TAG = 16;

/** Raised when a sealed value cannot be opened: wrong key, wrong AAD (moved row), or tampering. */
export class SecretBoxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SecretBoxError';
  }
}

function gcmSeal(key: Buffer, plaintext: Buffer, aad: Buffer): Buffer {
  const iv = randomBytes(IV);
  const c = createCipheriv('aes-256-gcm', key, iv);
  c.setAAD(aad);
  const ct = Buffer.concat([c.update(plaintext), c.final()]);
  return Buffer.concat([iv, c.getAuthTag(), ct]);
}

function gcmOpen(key: Buffer, sealed: Buffer, aad: Buffer): Buffer {
  if (sealed.length < IV + TAG) throw new SecretBoxError('Sealed value is truncated');
  const d = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, IV));
  d.setAAD(aad);
  d.setAuthTag(sealed.subarray(IV, IV + TAG));
  try {
    return Buffer.concat([d.update(sealed.subarray(IV + TAG)), d.final()]);
  } catch {
    throw new SecretBoxError('Cannot decrypt: wrong key or context, or the value was altered');
  }
}

/**
 * Envelope encryption with AES-256-GCM. Each value gets its own random data key; the data key is
 * wrapped by the current master key. Both layers authenticate `context` (AAD): callers bind it to
 * tenant, record and field, so a ciphertext copied into another row or tenant does not open.
 * Format: `rk1.<masterKeyId>.<wrapped data key>.<sealed value>` (base64url parts).
 * Rotation (`rewrap`) re-wraps only the data key; the value's ciphertext is untouched.
 */
@Injectable()
export class SecretBox {
  constructor(private readonly keys: KeyStore) {}

  seal(plaintext: string | Buffer, context: string): string {
    const master = this.keys.ring('master').current;
    const dek = randomBytes(32);
    const aad = Buffer.from(context, 'utf8');
    const wrapped = gcmSeal(
      master.key,
      dek,
      Buffer.concat([Buffer.from(`${VERSION}.${master.id}.`), aad]),
    );
    const body = gcmSeal(
      dek,
      Buffer.isBuffer(plaintext) ? plaintext : Buffer.from(plaintext, 'utf8'),
      aad,
    );
    return [VERSION, master.id, wrapped.toString('base64url'), body.toString('base64url')].join(
      '.',
    );
  }

  open(sealed: string, context: string): Buffer {
    const { keyId, wrapped, body } = parse(sealed);
    const master = this.keys.ring('master').get(keyId);
    if (!master) throw new SecretBoxError(`Unknown master key "${keyId}"`);
    const aad = Buffer.from(context, 'utf8');
    const dek = gcmOpen(master, wrapped, Buffer.concat([Buffer.from(`${VERSION}.${keyId}.`), aad]));
    return gcmOpen(dek, body, aad);
  }

  openString(sealed: string, context: string): string {
    return this.open(sealed, context).toString('utf8');
  }

  /** The master key id a value is wrapped under. */
  keyIdOf(sealed: string): string {
    return parse(sealed).keyId;
  }

  /** Re-wraps the data key under the newest master key; returns the input when already current. */
  rewrap(sealed: string, context: string): string {
    const { keyId, wrapped, body } = parse(sealed);
    const current = this.keys.ring('master').current;
    if (keyId === current.id) return sealed;
    const old = this.keys.ring('master').get(keyId);
    if (!old) throw new SecretBoxError(`Unknown master key "${keyId}"`);
    const aad = Buffer.from(context, 'utf8');
    const dek = gcmOpen(old, wrapped, Buffer.concat([Buffer.from(`${VERSION}.${keyId}.`), aad]));
    const rewrapped = gcmSeal(
      current.key,
      dek,
      Buffer.concat([Buffer.from(`${VERSION}.${current.id}.`), aad]),
    );
    return [VERSION, current.id, rewrapped.toString('base64url'), body.toString('base64url')].join(
      '.',
    );
  }

  /** Keyed fingerprint of a secret (HMAC with a key derived from the master key), safe to show. */
  fingerprint(secret: string, context: string): string {
    const master = this.keys.ring('master').keys.at(-1)!; // the oldest key: stable across rotations
    const k = createHmac('sha256', master.key).update('roomkey-fingerprint').digest();
    return createHmac('sha256', k)
      .update(context)
      .update('\0')
      .update(secret)
      .digest('base64url')
      .slice(0, 22);
  }
}

function parse(sealed: string): { keyId: string; wrapped: Buffer; body: Buffer } {
  const parts = sealed.split('.');
  if (parts.length !== 4 || parts[0] !== VERSION || !parts[1])
    throw new SecretBoxError('Not a sealed value');
  return {
    keyId: parts[1],
    wrapped: Buffer.from(parts[2], 'base64url'),
    body: Buffer.from(parts[3], 'base64url'),
  };
}
