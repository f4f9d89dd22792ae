import { DomainException } from '../common/errors';
import { ProviderKind } from './provider-kind';

/**
 * Where each vendor's secret goes: the config field holding the address it is sent to (or that
 * receives what it signs), and the secret an admin must give again to change that address.
 * Agora and Red5 secrets never leave Roomkey, so they have no endpoint.
 */
export const SECRET_ENDPOINT: Partial<Record<ProviderKind, { endpoint: string; secret: string }>> =
  {
    [ProviderKind.OPENVIDU]: { endpoint: 'url', secret: 'secret' },
    [ProviderKind.LIVEKIT]: { endpoint: 'url', secret: 'apiSecret' },
    [ProviderKind.PEXIP]: { endpoint: 'apiAddress', secret: 'privateKeyPem' },
    [ProviderKind.FISHJAM]: { endpoint: 'fishjamUrl', secret: 'managementToken' },
  };

/** The address a credential's secrets are bound to, or null for kinds whose secrets stay local. */
export function endpointOf(kind: ProviderKind, config: Record<string, unknown>): string | null {
  const binding = SECRET_ENDPOINT[kind];
  if (!binding) return null;
  const value = config[binding.endpoint];
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
  kind: ProviderKind,
  before: Record<string, unknown>,
  after: Record<string, unknown>,
  givenSecrets: Record<string, string | undefined>,
): void {
  const binding = SECRET_ENDPOINT[kind];
  if (!binding) return;
  if (endpointOf(kind, before) === endpointOf(kind, after)) return;
  if (givenSecrets[binding.secret] !== undefined) return;
  throw DomainException.badInput(
    binding.secret,
    `${binding.secret} is required when ${binding.endpoint} changes: a stored secret is never sent to a new address`,
  );
}
