import { Injectable } from '@nestjs/common';
import { AgoraAdapter } from './adapters/agora.adapter';
import { FishjamAdapter } from './adapters/fishjam.adapter';
import { LiveKitAdapter } from './adapters/livekit.adapter';
import { OpenViduAdapter } from './adapters/openvidu.adapter';
import { PexipAdapter } from './adapters/pexip.adapter';
import { Red5Adapter } from './adapters/red5.adapter';
import { ProviderKind } from './provider-kind';
import { type VideoProvider } from './video-provider';

/** The adapter for each ProviderKind. */
@Injectable()
export class ProviderRegistry {
  private readonly byKind: Record<ProviderKind, VideoProvider>;

  constructor(
    openvidu: OpenViduAdapter,
    livekit: LiveKitAdapter,
    pexip: PexipAdapter,
    agora: AgoraAdapter,
    fishjam: FishjamAdapter,
    red5: Red5Adapter,
  ) {
    this.byKind = {
      [ProviderKind.OPENVIDU]: openvidu,
      [ProviderKind.LIVEKIT]: livekit,
      [ProviderKind.PEXIP]: pexip,
      [ProviderKind.AGORA]: agora,
      [ProviderKind.FISHJAM]: fishjam,
      [ProviderKind.RED5]: red5,
    };
  }

  get(kind: ProviderKind): VideoProvider {
    return this.byKind[kind];
  }
}
