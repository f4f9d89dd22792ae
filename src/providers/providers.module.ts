import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AgoraAdapter } from './agora/agora.adapter';
import { FishjamAdapter } from './fishjam/fishjam.adapter';
import { LiveKitAdapter } from './livekit/livekit.adapter';
import { OpenViduAdapter } from './openvidu/openvidu.adapter';
import { PexipAdapter } from './pexip/pexip.adapter';
import { Red5Adapter } from './red5/red5.adapter';
import { CredentialRebinder } from './credential-rebinder';
import { VendorHttp } from './http/vendor-http';
import { ProviderCredential } from './provider-credential.entity';
import { ProviderCredentialsResolver } from './provider-credentials.resolver';
import { ProviderCredentialsService } from './provider-credentials.service';
import { ProviderRegistry } from './provider-registry';

/** Vendor credentials vault, the VideoProvider adapters and their registry. */
@Module({
  imports: [TypeOrmModule.forFeature([ProviderCredential])],
  providers: [
    VendorHttp,
    OpenViduAdapter,
    LiveKitAdapter,
    PexipAdapter,
    AgoraAdapter,
    FishjamAdapter,
    Red5Adapter,
    ProviderRegistry,
    ProviderCredentialsService,
    ProviderCredentialsResolver,
    CredentialRebinder,
  ],
  exports: [ProviderRegistry, ProviderCredentialsService, AgoraAdapter],
})
export class ProvidersModule {}
