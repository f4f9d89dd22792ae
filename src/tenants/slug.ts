import { DomainException } from '../common/errors';
import { hasControlChars } from '../common/text';

/** Tenant slugs: 3–40 lower-case letters, digits and inner hyphens. */
export const SLUG_PATTERN = /^[a-z0-9](?:[a-z0-9-]{1,38}[a-z0-9])$/;

export function validateSlug(slug: string, field = 'slug'): string {
  if (!SLUG_PATTERN.test(slug)) {
    throw DomainException.badInput(
      field,
      'Slug must be 3-40 characters of a-z, 0-9 and hyphens, starting and ending with a letter or digit',
    );
  }
  return slug;
}

export function validateName(name: string, field = 'name', max = 200): string {
  const n = name.normalize('NFC').trim();
  if (n.length === 0 || n.length > max)
    throw DomainException.badInput(field, `Name must be 1-${max} characters`);
  if (hasControlChars(n)) throw DomainException.badInput(field, 'Name contains control characters');
  return n;
}
