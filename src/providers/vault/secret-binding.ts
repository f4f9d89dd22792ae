import { DomainException } from '../../common/errors';
import { type CredentialRules } from '../credential-rules';

/** The address a credential's secrets are bound to, or null for kinds whose secrets stay local. */
export function endpointOf(rules: CredentialRules, config: Record<string, unknown>): string | null {
  const binding = rules.endpoint;
  if (!binding) return null;
  const value = config[binding.field];
  return typeof value === 'string' ? value : '';
}

/**
 * AAD of one sealed field: a copy moved to another tenant, credential or field will not open, and
 * neither will a secret whose endpoint was changed behind the API's back (a database-level edit of
 * the URL makes decryption fail instead of sending the secret to the new host).
 */
export function credentialFieldContext(
  tenantId: string,
  id: string,
  field: string,
  endpoint: string | null,
): string {
  const base = `provider-credential|${tenantId}|${id}|${field}`;
  return endpoint === null ? base : `${base}|endpoint=${endpoint}`;
}

/** The context every field was sealed under before secrets were bound to their endpoint. */
export function legacyFieldContext(tenantId: string, id: string, field: string): string {
  return credentialFieldContext(tenantId, id, field, null);
}

/**
 * Refuses an update that moves a credential's endpoint without giving its secret again: whoever
 * can edit the address must prove they also hold the secret that will be sent there.
 */
export function assertSecretGivenForNewEndpoint(
  rules: CredentialRules,
  before: Record<string, unknown>,
  after: Record<string, unknown>,
  givenSecrets: Record<string, string | undefined>,
): void {
  const binding = rules.endpoint;
  if (!binding) return;
  if (endpointOf(rules, before) === endpointOf(rules, after)) return;
  if (givenSecrets[binding.secret] !== undefined) return;
  throw DomainException.badInput(
    binding.secret,
    `${binding.secret} is required when ${binding.field} changes: a stored secret is never sent to a new address`,
  );
}
