import { registerEnumType } from '@nestjs/graphql';

export enum ProviderKind {
  OPENVIDU = 'OPENVIDU',
  LIVEKIT = 'LIVEKIT',
  PEXIP = 'PEXIP',
  AGORA = 'AGORA',
  FISHJAM = 'FISHJAM',
  RED5 = 'RED5',
}
registerEnumType(ProviderKind, {
  name: 'ProviderKind',
  description:
    'Video vendor: OpenVidu 2, OpenVidu 3/LiveKit, Pexip VPaaS, Agora, Fishjam, Red5 Pro.',
});

export enum ParticipantRole {
  SUBSCRIBER = 'SUBSCRIBER',
  PUBLISHER = 'PUBLISHER',
  MODERATOR = 'MODERATOR',
}
registerEnumType(ParticipantRole, {
  name: 'ParticipantRole',
  description: 'What a join credential allows: receive only, send and receive, or also moderate.',
});
