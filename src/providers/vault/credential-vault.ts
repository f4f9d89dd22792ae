import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { type BusCache, Caches } from '../../common/cache';
import { type RequestContext } from '../../common/context';
import { SecretBox, SecretBoxError } from '../../common/crypto/secret-box';
import { DomainException, ErrorCode } from '../../common/errors';
import { ProviderCredential } from '../provider-credential.entity';
import { type ProviderKind } from '../provider-kind';
import { ProviderRegistry } from '../provider-registry';
import { type ResolvedCredential } from '../video-provider';
import { credentialFieldContext, endpointOf } from './secret-binding';

/**
 * The vault: seals and opens credential secrets, each field bound to its tenant, credential, field
 * and endpoint (secret-binding.ts), and serves decrypted credentials from a per-process cache
 * (never logged, never sent anywhere) until the credential changes in any instance (a
 * `credential` invalidation) or the cache TTL ends. Managing credentials (who may, validation,
 * audit) is ProviderCredentialsService's job.
 */
@Injectable()
export class CredentialVault {
  private readonly logger = new Logger('CredentialVault');
  /** `i|tenant|id` (by id) and `d|tenant|kind` (the tenant's default), frozen. */
  private readonly cache: BusCache<ResolvedCredential>;

  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly box: SecretBox,
    private readonly registry: ProviderRegistry,
    caches: Caches,
  ) {
    this.cache = caches.create<ResolvedCredential>((lru, e) => {
      // Any change may move the default (makeDefault clears the previous one): drop them all.
      if (e.kind === 'credential')
        lru.deleteWhere((v, key) => v.id === e.id || key.startsWith(`d|${e.tenantId}|`));
      if (e.kind === 'tenant') lru.deleteWhere((v) => v.tenantId === e.id);
    });
  }

  /** The credential with decrypted secrets: by id, or the tenant's default for a kind. */
  async resolve(
    ctx: Pick<RequestContext, 'tenantId'> & Partial<Pick<RequestContext, 'joinLink'>>,
    id: string | null,
    kind?: ProviderKind,
  ): Promise<ResolvedCredential> {
    // A join link mints with its tenant's default credential of its vendor, never a chosen one.
    if (id !== null && ctx.joinLink) {
      throw DomainException.forbidden(
        'A join link uses the default credential: credential cannot be chosen',
        'join_link_credential',
      );
    }
    const key = id ? `i|${ctx.tenantId}|${id}` : `d|${ctx.tenantId}|${kind}`;
    const hit = this.cache.get(key);
    if (hit) return ofKind(hit, kind);
    const epoch = this.cache.epoch;
    const repo = this.ds.getRepository(ProviderCredential);
    const row = id
      ? await repo.findOne({ where: { id, tenantId: ctx.tenantId } })
      : await repo.findOne({ where: { tenantId: ctx.tenantId, kind, isDefault: true } });
    if (!row) {
      throw id
        ? DomainException.notFound('Provider credential')
        : DomainException.badInput(
            'provider',
            `No default ${kind} credential: create one or pass credentialId`,
          );
    }
    ofKind(row, kind);
    let secrets: Record<string, string>;
    try {
      secrets = this.openAll(row);
    } catch (err) {
      if (!(err instanceof SecretBoxError)) throw err;
      // Fail closed: a secret whose row, tenant or endpoint was edited outside Roomkey is never
      // sent anywhere. An admin sets it again through updateProviderCredential.
      this.logger.warn({ credentialId: row.id }, 'A credential secret does not open: refused');
      throw new DomainException(
        ErrorCode.PROVIDER_UNAVAILABLE,
        'This credential cannot be used: its stored secret does not match its endpoint or record (changed outside Roomkey?). Set the secret again.',
        { reason: 'credential_unreadable' },
      );
    }
    // Shared by every request that hits the cache: frozen, so none can change it for the others.
    const value: ResolvedCredential = Object.freeze({
      id: row.id,
      tenantId: row.tenantId,
      kind: row.kind,
      config: Object.freeze({ ...row.config }),
      secrets: Object.freeze(secrets),
    });
    this.cache.fill(key, value, epoch);
    return value;
  }

  /**
   * Seals the given secrets (undefined = keep the stored one) into the row under its current
   * endpoint, and records the key version and, when secrets were given, their fingerprint.
   */
  seal(row: ProviderCredential, secrets: Record<string, string | undefined>): void {
    const next = { ...row.secrets };
    for (const [field, value] of Object.entries(secrets)) {
      if (value !== undefined) next[field] = this.box.seal(value, this.context(row, field));
    }
    row.secrets = next;
    row.keyVersion = this.keyVersionOf(next);
    const given = Object.entries(secrets).filter(([, v]) => v !== undefined);
    if (given.length > 0) {
      row.secretFingerprint = this.box.fingerprint(
        given.map(([k, v]) => `${k}=${v}`).join('\n'),
        `provider-credential|${row.tenantId}|${row.id}`,
      );
    }
  }

  /**
   * Moves the row's stored secrets that are not being replaced (`given`) to a new config: opened
   * under the old endpoint, sealed again under the new one, fingerprint unchanged. Call it before
   * `seal`, with the new config.
   */
  rebind(
    row: ProviderCredential,
    config: Record<string, unknown>,
    given: Record<string, string | undefined>,
  ): void {
    const rules = this.registry.get(row.kind).credential;
    if (endpointOf(rules, row.config) === endpointOf(rules, config)) {
      row.config = config;
      return;
    }
    const kept: Record<string, string> = {};
    for (const [field, sealed] of Object.entries(row.secrets)) {
      if (given[field] === undefined)
        kept[field] = this.box.openString(sealed, this.context(row, field));
    }
    row.config = config;
    for (const [field, value] of Object.entries(kept))
      row.secrets[field] = this.box.seal(value, this.context(row, field));
    row.keyVersion = this.keyVersionOf(row.secrets);
  }

  /**
   * keys:rotate — re-wraps every credential secret under the newest master key. The secrets
   * themselves do not change, so the caches of decrypted credentials stay right: nothing to publish.
   */
  async rewrapAll(): Promise<number> {
    const repo = this.ds.getRepository(ProviderCredential);
    let n = 0;
    for (const row of await repo.find()) {
      let changed = false;
      const next: Record<string, string> = {};
      for (const [field, sealed] of Object.entries(row.secrets)) {
        next[field] = this.box.rewrap(sealed, this.context(row, field));
        changed ||= next[field] !== sealed;
      }
      if (!changed) continue;
      await repo.update({ id: row.id }, { secrets: next, keyVersion: this.keyVersionOf(next) });
      n++;
    }
    return n;
  }

  private openAll(row: ProviderCredential): Record<string, string> {
    const secrets: Record<string, string> = {};
    for (const [field, sealed] of Object.entries(row.secrets))
      secrets[field] = this.box.openString(sealed, this.context(row, field));
    return secrets;
  }

  /** The AAD of one field of the row, bound to the row's current endpoint. */
  private context(row: ProviderCredential, field: string): string {
    const endpoint = endpointOf(this.registry.get(row.kind).credential, row.config);
    return credentialFieldContext(row.tenantId, row.id, field, endpoint);
  }

  private keyVersionOf(secrets: Record<string, string>): string | null {
    const fields = Object.keys(secrets).sort();
    return fields.length ? this.box.keyIdOf(secrets[fields[0]]) : null;
  }
}

/** Refuses a credential of another vendor than the one asked for. */
function ofKind<T extends { kind: ProviderKind }>(cred: T, kind: ProviderKind | undefined): T {
  if (kind && cred.kind !== kind)
    throw DomainException.badInput('credentialId', `This credential is ${cred.kind}, not ${kind}`);
  return cred;
}
