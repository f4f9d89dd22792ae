import { Injectable } from '@nestjs/common';
import { type EntityManager } from 'typeorm';
import { type RequestContext } from '../../common/context';
import { type ProviderCredential } from '../provider-credential.entity';

/**
 * Work another module does inside the transaction that deletes a credential, before the row goes
 * (the session layer ends the credential's open sessions, or refuses without `force`).
 */
export type BeforeCredentialDelete = (
  m: EntityManager,
  ctx: RequestContext,
  credential: ProviderCredential,
  force: boolean,
) => Promise<void>;

/**
 * Lets modules that depend on the vault react to a credential's deletion without the vault
 * depending on them. Hooks are registered once, at module init.
 */
@Injectable()
export class CredentialLifecycle {
  private readonly beforeDeleteHooks: BeforeCredentialDelete[] = [];

  onBeforeDelete(hook: BeforeCredentialDelete): void {
    this.beforeDeleteHooks.push(hook);
  }

  async beforeDelete(
    m: EntityManager,
    ctx: RequestContext,
    credential: ProviderCredential,
    force: boolean,
  ): Promise<void> {
    for (const hook of this.beforeDeleteHooks) await hook(m, ctx, credential, force);
  }
}
