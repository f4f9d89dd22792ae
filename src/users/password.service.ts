import { randomBytes } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { hash, verify } from '@node-rs/argon2';
import { APP_CONFIG, type AppConfig } from '../common/config';
import { DomainException } from '../common/errors';

export const PASSWORD_MIN = 12;
export const PASSWORD_MAX = 1024;
/** The reason of the RATE_LIMITED refusal when every hashing slot and queue place is taken. */
export const PASSWORD_QUEUE_FULL = 'password_queue_full';

/** OWASP's Argon2id baseline: 19 MiB, 2 passes, 1 lane. `2` is Argon2id (the enum is const-only). */
const ARGON2ID = { algorithm: 2, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;
/** The test suite's Argon2id (fastPasswordHashForTests): 64 KiB, 1 pass, about 0.1 ms. */
const ARGON2ID_FOR_TESTS = { ...ARGON2ID, memoryCost: 64, timeCost: 1 } as const;

/** Passwords are compared in their NFC form, so visually identical input always matches. */
export function normalisePassword(password: string): string {
  return password.normalize('NFC');
}

/**
 * Argon2id hashing with a cap on concurrent hash operations: each one takes 19 MiB and a thread,
 * so a burst of Basic logins queues instead of exhausting memory. The queue is bounded too
 * (`ROOMKEY_PASSWORD_HASH_QUEUE`): past it a check is refused at once with RATE_LIMITED
 * (reason `password_queue_full`) rather than waiting behind a flood.
 */
@Injectable()
export class PasswordService {
  private active = 0;
  private readonly queue: Array<() => void> = [];
  private readonly dummyHash: Promise<string>;
  private readonly params: typeof ARGON2ID | typeof ARGON2ID_FOR_TESTS;

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {
    this.params = config.security.fastPasswordHashForTests ? ARGON2ID_FOR_TESTS : ARGON2ID;
    this.dummyHash = this.limited(() => hash(randomBytes(32).toString('hex'), this.params));
  }

  /** Throws BAD_USER_INPUT naming `field` when the password breaks the policy. */
  validatePolicy(password: string, field = 'password'): string {
    const p = normalisePassword(password);
    if ([...p].length < PASSWORD_MIN) {
      throw DomainException.badInput(field, `Password must be at least ${PASSWORD_MIN} characters`);
    }
    if ([...p].length > PASSWORD_MAX) {
      throw DomainException.badInput(field, `Password must be at most ${PASSWORD_MAX} characters`);
    }
    return p;
  }

  async hash(password: string): Promise<string> {
    const p = this.validatePolicy(password);
    return this.limited(() => hash(p, this.params));
  }

  /**
   * Verifies a password. With no stored hash (unknown user, SSO-only user) it still spends the
   * same work on a dummy hash, so the answer time does not reveal whether the account exists.
   */
  async verify(storedHash: string | null, password: string): Promise<boolean> {
    const p = normalisePassword(password);
    if (p.length > PASSWORD_MAX * 4) return false; // far beyond any valid password: no hashing work
    const target = storedHash ?? (await this.dummyHash);
    const ok = await this.limited(() => verify(target, p).catch(() => false));
    return ok && storedHash !== null;
  }

  private async limited<T>(fn: () => Promise<T>): Promise<T> {
    if (this.active >= this.config.security.passwordHashConcurrency) {
      if (this.queue.length >= this.config.security.passwordHashQueue) {
        throw DomainException.rateLimited(1, PASSWORD_QUEUE_FULL);
      }
      await new Promise<void>((resolve) => this.queue.push(resolve));
    } else {
      this.active++;
    }
    try {
      return await fn();
    } finally {
      const next = this.queue.shift();
      if (next) next();
      else this.active--;
    }
  }
}
