import { Injectable } from '@nestjs/common';
import { AgoraAdapter } from './agora/agora.adapter';
import { FishjamAdapter } from './fishjam/fishjam.adapter';
import { LiveKitAdapter } from './livekit/livekit.adapter';
import { OpenViduAdapter } from './openvidu/openvidu.adapter';
import { PexipAdapter } from './pexip/pexip.adapter';
import { Red5Adapter } from './red5/red5.adapter';
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
