import { KeyObject, randomBytes } from 'node:crypto';
import {
  Inject,
  Injectable,
  Logger,
  type OnModuleDestroy,
  type OnModuleInit,
} from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { type CryptoKey, type JWK, exportJWK, generateKeyPair, importJWK } from 'jose';
import { DataSource, IsNull } from 'typeorm';
import { APP_CONFIG, type AppConfig } from '../../common/config';
import { SecretBox } from '../../common/crypto/secret-box';
import { SigningKey } from './token.entities';

export const ACCESS_TOKEN_ALG = 'ES256';
const ROTATION_LOCK = 0x726b736b; // "rksk"
const RELOAD_COOLDOWN_MS = 10_000;
const ROTATION_CHECK_MS = 3_600_000;

export interface LoadedKey {
  kid: string;
  publicKey: CryptoKey;
  /** SPKI PEM, for verifiers built on node:crypto (passport-jwt / jsonwebtoken). */
  publicPem: string;
  publicJwk: Record<string, unknown>;
  retiredAt: Date | null;
  createdAt: Date;
}

/**
 * Roomkey's token-signing keys. The newest unretired key signs; retired keys keep verifying until
 * the longest-lived token they could have signed has expired (access TTL + 30 s skew), then drop
 * out of the JWKS. Rotation happens on a schedule (checked hourly) or via the CLI.
 */
@Injectable()
export class SigningKeysService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(SigningKeysService.name);
  private verifying = new Map<string, LoadedKey>();
  private signer: { kid: string; key: CryptoKey } | null = null;
  private loadedAt = 0;
  private timer?: NodeJS.Timeout;

  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly box: SecretBox,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.rotateIfDue();
    this.timer = setInterval(() => {
      this.rotateIfDue().catch((err: unknown) =>
        this.logger.error({ err }, 'signing key rotation check failed'),
      );
    }, ROTATION_CHECK_MS);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  /** How long a retired key keeps verifying. */
  private get overlapMs(): number {
    return (this.config.auth.accessTokenTtlSeconds + 30) * 1000;
  }

  async signingKey(): Promise<{ kid: string; key: CryptoKey }> {
    if (!this.signer || Date.now() - this.loadedAt > ROTATION_CHECK_MS) await this.reload();
    if (!this.signer) await this.rotate();
    return this.signer!;
  }

  /** Public key for a `kid`; reloads from the database at most once per 10 s for unknown ids. */
  async verificationKey(kid: string): Promise<LoadedKey | null> {
    let k = this.verifying.get(kid);
    if (!k && Date.now() - this.loadedAt > RELOAD_COOLDOWN_MS) {
      await this.reload();
      k = this.verifying.get(kid);
    }
    if (!k) return null;
    if (k.retiredAt && Date.now() > k.retiredAt.getTime() + this.overlapMs) return null;
    return k;
  }

  async jwks(): Promise<{ keys: JWK[] }> {
    if (Date.now() - this.loadedAt > RELOAD_COOLDOWN_MS) await this.reload();
    const now = Date.now();
    return {
      keys: [...this.verifying.values()]
        .filter((k) => !k.retiredAt || now <= k.retiredAt.getTime() + this.overlapMs)
        .map((k) => ({ ...(k.publicJwk as JWK), kid: k.kid, alg: ACCESS_TOKEN_ALG, use: 'sig' })),
    };
  }

  async rotateIfDue(): Promise<boolean> {
    const current = await this.ds
      .getRepository(SigningKey)
      .findOne({ where: { retiredAt: IsNull() }, order: { createdAt: 'DESC' } });
    const maxAgeMs = this.config.auth.signingKeyRotationDays * 86_400_000;
    if (current && Date.now() - current.createdAt.getTime() < maxAgeMs) {
      await this.reload();
      return false;
    }
    await this.rotate();
    return true;
  }

  /** Creates a new signing key and retires the previous one (which keeps verifying for a while). */
  async rotate(): Promise<string> {
    const { publicKey, privateKey } = await generateKeyPair(ACCESS_TOKEN_ALG, {
      extractable: true,
    });
    const kid = `rk-${new Date().toISOString().slice(0, 10)}-${randomBytes(4).toString('hex')}`;
    const privateJwk = await exportJWK(privateKey);
    await this.ds.transaction(async (m) => {
      await m.query('SELECT pg_advisory_xact_lock($1)', [ROTATION_LOCK]);
      await m.update(SigningKey, { retiredAt: IsNull() }, { retiredAt: new Date() });
      await m.save(
        m.create(SigningKey, {
          kid,
          alg: ACCESS_TOKEN_ALG,
          publicJwk: { ...(await exportJWK(publicKey)) },
          privateKeySealed: this.box.seal(JSON.stringify(privateJwk), `signing-key|${kid}`),
          retiredAt: null,
        }),
      );
    });
    this.logger.log(`Token signing key rotated: ${kid}`);
    await this.reload();
    return kid;
  }

  /** Re-wraps every sealed private key under the newest master key. */
  async rewrapAll(): Promise<number> {
    const keys = await this.ds.getRepository(SigningKey).find();
    let n = 0;
    for (const k of keys) {
      const rewrapped = this.box.rewrap(k.privateKeySealed, `signing-key|${k.kid}`);
      if (rewrapped !== k.privateKeySealed) {
        await this.ds
          .getRepository(SigningKey)
          .update({ kid: k.kid }, { privateKeySealed: rewrapped });
        n++;
      }
    }
    return n;
  }

  private async reload(): Promise<void> {
    const since = new Date(Date.now() - this.overlapMs - 60_000);
    const rows = await this.ds
      .getRepository(SigningKey)
      .createQueryBuilder('k')
      .where('k.retiredAt IS NULL OR k.retiredAt > :since', { since })
      .orderBy('k.createdAt', 'DESC')
      .getMany();
    const next = new Map<string, LoadedKey>();
    for (const r of rows) {
      const publicKey = (await importJWK(r.publicJwk as JWK, ACCESS_TOKEN_ALG)) as CryptoKey;
      next.set(r.kid, {
        kid: r.kid,
        publicKey,
        publicPem: KeyObject.from(publicKey).export({ type: 'spki', format: 'pem' }).toString(),
        publicJwk: r.publicJwk,
        retiredAt: r.retiredAt,
        createdAt: r.createdAt,
      });
    }
    const current = rows.find((r) => !r.retiredAt);
    if (current && current.kid !== this.signer?.kid) {
      const jwk = JSON.parse(
        this.box.openString(current.privateKeySealed, `signing-key|${current.kid}`),
      ) as JWK;
      this.signer = {
        kid: current.kid,
        key: (await importJWK(jwk, ACCESS_TOKEN_ALG)) as CryptoKey,
      };
    } else if (!current) {
      this.signer = null;
    }
    this.verifying = next;
    this.loadedAt = Date.now();
  }
}
