import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AgoraUserTokens } from './agora/agora-user-tokens';
import { VendorHttp } from './http/vendor-http';
import { ProviderCredential } from './provider-credential.entity';
import { ProviderCredentialsResolver } from './provider-credentials.resolver';
import { ProviderCredentialsService } from './provider-credentials.service';
import { ProviderRegistry } from './provider-registry';
import { CredentialLifecycle } from './vault/credential-lifecycle';
import { CredentialRebinder } from './vault/credential-rebinder';
import { CredentialVault } from './vault/credential-vault';
import { VENDORS } from './vendors';
import { type VideoProvider } from './video-provider';

/** The VideoProvider adapters of every vendor and their registry, the credential vault and its management. */
@Module({
  imports: [TypeOrmModule.forFeature([ProviderCredential])],
  providers: [
    VendorHttp,
    ...VENDORS.map((v) => v.adapter),
    {
      provide: ProviderRegistry,
      useFactory: (...adapters: VideoProvider[]) => new ProviderRegistry(adapters),
      inject: VENDORS.map((v) => v.adapter),
    },
    CredentialVault,
    CredentialLifecycle,
    CredentialRebinder,
    ProviderCredentialsService,
    ProviderCredentialsResolver,
    AgoraUserTokens,
  ],
  exports: [
    ProviderRegistry,
    CredentialVault,
    CredentialLifecycle,
    ProviderCredentialsService,
    AgoraUserTokens,
  ],
})
export class ProvidersModule {}
