import { DataSource } from 'typeorm';
import { systemActor } from '../audit/audit-actor';
import { AuditService } from '../audit/audit.service';
import { IdentityProvider } from '../auth/identity-providers/identity-provider.entities';
import { secretContext } from '../auth/identity-providers/identity-providers.service';
import { SigningKeysService } from '../auth/tokens/signing-keys.service';
import { SecretBox } from '../common/crypto/secret-box';
import { CredentialVault } from '../providers/vault/credential-vault';
import { PLATFORM_TENANT_ID } from '../audit/audit-chain';
import { type CliEnv, type CliIo, UsageError } from './cli-types';

type Handler = (env: CliEnv, args: string[], io: CliIo) => Promise<void>;

export const KEY_COMMANDS: Record<string, Handler> = {
  /** New token-signing key now; the old one keeps verifying until its tokens have expired. */
  'signing-key:rotate': async ({ app: start }, args, io) => {
    if (args.length > 0) throw new UsageError('signing-key:rotate takes no options');
    const app = await start();
    const kid = await app.get(SigningKeysService).rotate();
    await app.get(AuditService).record(
      null,
      { ...systemActor('cli'), tenantId: PLATFORM_TENANT_ID },
      {
        action: 'auth.signing_key.rotated',
        metadata: { kid },
      },
    );
    io.out(JSON.stringify({ rotated: true, kid }));
  },

  /**
   * Re-wraps every sealed secret under the newest master key (the first of ROOMKEY_MASTER_KEYS).
   * Runs while Roomkey serves: old and new keys both decrypt until the old one is removed.
   */
  'keys:rotate': async ({ app: start }, args, io) => {
    if (args.length > 0) throw new UsageError('keys:rotate takes no options');
    const app = await start();
    const box = app.get(SecretBox);
    const ds = app.get(DataSource);
    const signing = await app.get(SigningKeysService).rewrapAll();
    let providers = 0;
    for (const p of await ds.getRepository(IdentityProvider).find()) {
      if (!p.secretSealed) continue;
      const rewrapped = box.rewrap(p.secretSealed, secretContext(p));
      if (rewrapped !== p.secretSealed) {
        await ds.getRepository(IdentityProvider).update({ id: p.id }, { secretSealed: rewrapped });
        providers++;
      }
    }
    const credentials = await app.get(CredentialVault).rewrapAll();
    await app.get(AuditService).record(
      null,
      { ...systemActor('cli'), tenantId: PLATFORM_TENANT_ID },
      {
        action: 'provider_credential.rotated',
        metadata: { rewrapped: signing + providers + credentials },
      },
    );
    io.out(
      JSON.stringify({
        rewrapped: {
          signingKeys: signing,
          identityProviders: providers,
          providerCredentials: credentials,
        },
      }),
    );
  },
};
