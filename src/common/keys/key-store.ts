import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG, type AppConfig, type KeyEntry } from '../config';

export type KeyPurpose = 'master' | 'audit';

/** Newest key first; every key addressable by id for decryption and verification. */
export class KeyRing {
  private readonly byId: Map<string, Buffer>;

  constructor(readonly keys: readonly KeyEntry[]) {
    if (keys.length === 0) throw new Error('A key ring needs at least one key');
    this.byId = new Map(keys.map((k) => [k.id, k.key]));
  }

  get current(): KeyEntry {
    return this.keys[0];
  }

  get(id: string): Buffer | undefined {
    return this.byId.get(id);
  }
}

interface KeyFile {
  master?: Array<{ id: string; key: string }>;
  audit?: Array<{ id: string; key: string }>;
}

/**
 * Supplies the master (secret encryption) and audit (HMAC chain) keys. Configured keys win. Without
 * them (never in production) the keys are generated once into `<dataDir>/keys.json` (mode 0600)
 * with a warning, or kept in memory when the data folder is `memory://`. Keys never enter the
 * database.
 */
@Injectable()
export class KeyStore {
  private readonly logger = new Logger(KeyStore.name);
  private readonly rings = new Map<KeyPurpose, KeyRing>();

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  ring(purpose: KeyPurpose): KeyRing {
    let ring = this.rings.get(purpose);
    if (!ring) {
      ring = new KeyRing(this.load(purpose));
      this.rings.set(purpose, ring);
    }
    return ring;
  }

  private load(purpose: KeyPurpose): KeyEntry[] {
    const configured =
      purpose === 'master' ? this.config.security.masterKeys : this.config.security.auditKeys;
    if (configured) return configured;
    const variable = purpose === 'master' ? 'ROOMKEY_MASTER_KEYS' : 'ROOMKEY_AUDIT_KEYS';
    if (this.config.app.env === 'production')
      throw new Error(`${variable} is required in production`);
    if (this.config.database.inMemory) {
      this.logger.warn(`${variable} is not set: using a throw-away in-memory ${purpose} key`);
      return [{ id: `${purpose}-mem`, key: randomBytes(32) }];
    }
    const file = path.join(this.config.database.dataDir, 'keys.json');
    const stored = readKeyFile(file);
    const existing = stored[purpose];
    if (existing?.length)
      return existing.map((k) => ({ id: k.id, key: Buffer.from(k.key, 'base64') }));
    const generated = { id: `${purpose}-1`, key: randomBytes(32) };
    stored[purpose] = [{ id: generated.id, key: generated.key.toString('base64') }];
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    fs.writeFileSync(file, JSON.stringify(stored, null, 2), { mode: 0o600 });
    this.logger.warn(
      `${variable} is not set: generated ${/^[aeiou]/.test(purpose) ? 'an' : 'a'} ${purpose} key into ${file}. Back it up; set ${variable} in production.`,
    );
    return [generated];
  }
}

function readKeyFile(file: string): KeyFile {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as KeyFile;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new Error(`Cannot read ${file}: ${(err as Error).message}`);
  }
}
