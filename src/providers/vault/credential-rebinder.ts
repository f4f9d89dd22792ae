import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { SecretBox, SecretBoxError } from '../../common/crypto/secret-box';
import { ProviderCredential } from '../provider-credential.entity';
import { ProviderRegistry } from '../provider-registry';
import { credentialFieldContext, endpointOf, legacyFieldContext } from './secret-binding';

/**
 * Migrates secrets sealed before they were bound to their endpoint: each one that opens only under
 * the old context is sealed again with the credential's current endpoint in its AAD. Runs at boot,
 * before the server listens; idempotent, and safe with several instances (each row is updated only
 * if nobody changed it in between). A value that opens under neither context is left alone and
 * reported by id: resolving that credential fails closed.
 */
@Injectable()
export class CredentialRebinder implements OnApplicationBootstrap {
  private readonly logger = new Logger('CredentialRebinder');

  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly box: SecretBox,
    private readonly registry: ProviderRegistry,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const migrated = await this.rebindAll();
    if (migrated > 0)
      this.logger.log(`Bound the secrets of ${migrated} credential(s) to their endpoint`);
  }

  /** Returns how many credentials were re-sealed. */
  async rebindAll(): Promise<number> {
    const kinds = this.registry
      .all()
      .filter((v) => this.registry.get(v.kind).credential.endpoint !== null)
      .map((v) => v.kind);
    const rows = await this.ds
      .getRepository(ProviderCredential)
      .createQueryBuilder('c')
      .where('c.kind IN (:...kinds)', { kinds })
      .getMany();
    let migrated = 0;
    for (const row of rows) {
      const next = this.rebound(row);
      if (!next) continue;
      const res = await this.ds
        .createQueryBuilder()
        .update(ProviderCredential)
        .set({ secrets: next })
        .where('id = :id AND secrets = CAST(:old AS jsonb)', {
          id: row.id,
          old: JSON.stringify(row.secrets),
        })
        .execute();
      migrated += res.affected ?? 0;
    }
    return migrated;
  }

  /** The row's secrets re-sealed under its endpoint, or null when there is nothing to migrate. */
  private rebound(row: ProviderCredential): Record<string, string> | null {
    const endpoint = endpointOf(this.registry.get(row.kind).credential, row.config);
    const next: Record<string, string> = {};
    let changed = false;
    for (const [field, sealed] of Object.entries(row.secrets)) {
      const bound = credentialFieldContext(row.tenantId, row.id, field, endpoint);
      if (this.opens(sealed, bound)) {
        next[field] = sealed;
        continue;
      }
      const legacy = legacyFieldContext(row.tenantId, row.id, field);
      if (!this.opens(sealed, legacy)) {
        this.logger.warn({ credentialId: row.id, field }, 'A sealed secret opens under no context');
        return null;
      }
      next[field] = this.box.seal(this.box.open(sealed, legacy), bound);
      changed = true;
    }
    return changed ? next : null;
  }

  private opens(sealed: string, context: string): boolean {
    try {
      this.box.open(sealed, context);
      return true;
    } catch (err) {
      if (err instanceof SecretBoxError) return false;
      throw err;
    }
  }
}
