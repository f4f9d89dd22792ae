import { DomainException } from '../common/errors';
import { hasControlChars } from '../common/text';

/** A credential block split into what is stored as is and what is sealed (undefined = keep). */
export interface CredentialSplit {
  config: Record<string, unknown>;
  secrets: Record<string, string | undefined>;
}

/**
 * One vendor's credential rules: how its GraphQL block is checked and split, and which address
 * its secret is sent to (a secret is bound to that address: see secret-binding.ts).
 */
export interface CredentialRules {
  /** Checks a block (a create, or an update of `fields.previous`) and splits it. */
  split(fields: CredentialFields): CredentialSplit;
  /**
   * The config field holding the address the secret goes to, and the secret an admin must give
   * again to change it; null for vendors whose secrets never leave Roomkey (Agora, Red5).
   */
  readonly endpoint: { field: string; secret: string } | null;
}

/**
 * Reads one vendor block with the vault's common rules: required strings without control
 * characters, write-only secrets that an update may leave out (kept), absolute URLs without
 * credentials. Every refusal is BAD_USER_INPUT naming the field.
 */
export class CredentialFields {
  constructor(
    /** The block as given. */
    readonly raw: Record<string, unknown>,
    /** The stored config on update (what an omitted field keeps); empty on create. */
    readonly previous: Record<string, unknown> = {},
    /** The secret fields stored already (an update may omit them). */
    private readonly storedSecrets: readonly string[] = [],
  ) {}

  /** A required string: given, or kept from the stored config on update. */
  text(field: string): string {
    const v = this.raw[field] ?? this.previous[field];
    if (typeof v !== 'string' || v.trim() === '')
      throw DomainException.badInput(field, `${field} is required`);
    // PEM keys are multi-line: line breaks are allowed there, other control characters nowhere.
    const checked = field === 'privateKeyPem' ? v.replace(/[\r\n\t]/g, '') : v;
    if (hasControlChars(checked))
      throw DomainException.badInput(field, `${field} contains control characters`);
    return v.trim();
  }

  /** A write-only secret: given (checked like text), or undefined to keep the stored one. */
  secret(field: string): string | undefined {
    const v = this.raw[field];
    if (v === undefined || v === null) {
      if (this.storedSecrets.includes(field)) return undefined;
      throw DomainException.badInput(field, `${field} is required`);
    }
    return this.text(field);
  }

  /** An optional secret: undefined when not given (the stored one, if any, is kept). */
  optionalSecret(field: string): string | undefined {
    return this.raw[field] == null ? undefined : this.text(field);
  }

  /** An absolute URL of one of `schemes`, without credentials, query or fragment; no trailing slash. */
  url(field: string, schemes = ['http:', 'https:']): string {
    const value = this.text(field);
    let u: URL;
    try {
      u = new URL(value);
    } catch {
      throw DomainException.badInput(field, `${field} must be an absolute URL`);
    }
    if (!schemes.includes(u.protocol))
      throw DomainException.badInput(field, `${field} must use ${schemes.join(' or ')}`);
    if (u.username || u.password)
      throw DomainException.badInput(field, `${field} must not contain credentials`);
    if (/[?#]/.test(value))
      throw DomainException.badInput(field, `${field} must not contain a query or fragment`);
    return value.replace(/\/$/, '');
  }

  /** A value given, else the stored one, else `fallback` (checked by the vendor's rules). */
  valueOr(field: string, fallback: unknown): unknown {
    return this.raw[field] ?? this.previous[field] ?? fallback;
  }
}
