import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { type EntityManager, Repository } from 'typeorm';
import { DomainException, isUniqueViolation } from '../common/errors';
import { PasswordService } from './password.service';
import { User } from './user.entity';
import { hasControlChars } from '../common/text';

const EMAIL =
  /^[^\s@<>()[\]\\,;:"]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$/;

/** Trims and lower-cases an email, refusing anything that is not a plain address. */
export function normaliseEmail(email: string, field = 'email'): string {
  const e = email.normalize('NFC').trim().toLowerCase();
  if (e.length > 320 || !EMAIL.test(e))
    throw DomainException.badInput(field, 'Invalid email address');
  return e;
}

export function cleanDisplayName(
  name: string | undefined | null,
  fallback: string,
  field = 'displayName',
): string {
  const n = (name ?? '').normalize('NFC').trim();
  if (n.length > 200)
    throw DomainException.badInput(field, 'Display name must be at most 200 characters');
  if (hasControlChars(n))
    throw DomainException.badInput(field, 'Display name contains control characters');
  return n || fallback;
}

export interface NewUser {
  email: string;
  displayName?: string | null;
  password?: string | null;
  isPlatformAdmin?: boolean;
}

/** Global user records. Tenant-facing operations go through MembersService. */
@Injectable()
export class UsersService {
  constructor(
    @InjectRepository(User) private readonly users: Repository<User>,
    private readonly passwords: PasswordService,
  ) {}

  findByEmail(email: string, manager?: EntityManager): Promise<User | null> {
    const repo = manager ? manager.getRepository(User) : this.users;
    return repo.findOne({ where: { email: email.trim().toLowerCase() } });
  }

  findById(id: string): Promise<User | null> {
    return this.users.findOne({ where: { id } });
  }

  /** Creates a user; CONFLICT when the (case-insensitive) email is taken. */
  async create(input: NewUser, manager?: EntityManager): Promise<User> {
    const repo = manager ? manager.getRepository(User) : this.users;
    const email = normaliseEmail(input.email);
    // An empty string is a (too short) password, not "no password": it goes through the policy.
    const passwordHash = input.password != null ? await this.passwords.hash(input.password) : null;
    if (await repo.exists({ where: { email } })) {
      throw DomainException.conflict('A user with this email already exists', 'email');
    }
    try {
      return await repo.save(
        repo.create({
          email,
          displayName: cleanDisplayName(input.displayName, email.split('@')[0]),
          passwordHash,
          isPlatformAdmin: input.isPlatformAdmin ?? false,
        }),
      );
    } catch (err) {
      // Two requests can pass the existence check at once; the unique index decides.
      if (isUniqueViolation(err))
        throw DomainException.conflict('A user with this email already exists', 'email');
      throw err;
    }
  }

  countAll(): Promise<number> {
    return this.users.count();
  }
}
