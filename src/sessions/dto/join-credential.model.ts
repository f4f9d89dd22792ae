import { Field, Float, ObjectType, createUnionType } from '@nestjs/graphql';
import { ProviderKind } from '../../providers/provider-kind';

@ObjectType('OpenViduCredential', {
  description:
    'OpenVidu 2: pass `token` to `session.connect()`. Single use: reconnects need a new one.',
})
export class OpenViduCredentialModel {
  @Field({ description: 'Connection token (wss://…?sessionId=…&token=tok_…).' })
  token!: string;

  @Field({ description: 'OpenVidu connection id (con_…).' })
  connectionId!: string;
}

@ObjectType('LiveKitCredential', {
  description: 'OpenVidu 3 / LiveKit: connect to `serverUrl` with `token` (a JWT signed locally).',
})
export class LiveKitCredentialModel {
  @Field({ description: 'Access token (HS256 JWT with a room grant for the role).' })
  token!: string;

  @Field({ description: 'WebSocket URL of the LiveKit server.' })
  serverUrl!: string;

  @Field({ description: 'Participant identity inside the token.' })
  identity!: string;

  @Field({ description: 'Room the token admits to.' })
  room!: string;
}

@ObjectType('PexipCredential', {
  description: 'Pexip VPaaS: a one-time participant credential for a meeting.',
})
export class PexipCredentialModel {
  @Field({ description: 'VPaaS API address the client connects to.' })
  apiAddress!: string;

  @Field({ description: 'Meeting id.' })
  meetingId!: string;

  @Field({ description: 'Participant id.' })
  participantId!: string;

  @Field({ description: 'Participant secret (one-time join credential).' })
  participantSecret!: string;
}

@ObjectType('AgoraCredential', {
  description: 'Agora: an AccessToken2 ("007…") for one channel, uid or user account, and role.',
})
export class AgoraCredentialModel {
  @Field({ description: 'RTC token.' })
  token!: string;

  @Field({ description: 'Agora app id (public).' })
  appId!: string;

  @Field({ description: 'Channel name.' })
  channel!: string;

  @Field(() => Float, {
    nullable: true,
    description:
      'Integer uid 0..4294967295 the token is bound to (0 = any); null with userAccount.',
  })
  uid!: number | null;

  @Field(() => String, { nullable: true, description: 'String user account, when used.' })
  userAccount!: string | null;

  @Field(() => String, { nullable: true, description: 'RTM token, when requested (`agora.rtm`).' })
  rtmToken!: string | null;

  @Field(() => String, {
    nullable: true,
    description: 'Agora Chat user token, when requested (`agora.chat`).',
  })
  chatToken!: string | null;
}

@ObjectType('FishjamCredential', {
  description: 'Fishjam: a peer token for one room and peer (valid 24 h).',
})
export class FishjamCredentialModel {
  @Field({ description: 'Peer token.' })
  peerToken!: string;

  @Field(() => String, { nullable: true, description: 'WebSocket URL the peer connects to.' })
  peerWebsocketUrl!: string | null;

  @Field({ description: 'Peer id.' })
  peerId!: string;

  @Field({ description: 'Room id.' })
  roomId!: string;
}

@ObjectType('FishjamLivestreamCredential', {
  description:
    'Fishjam: a livestream token for one room — a viewer token (WHEP) for a SUBSCRIBER, a streamer token (WHIP) for a PUBLISHER. Fishjam gives it no id to revoke.',
})
export class FishjamLivestreamCredentialModel {
  @Field({ description: 'Viewer or streamer token.' })
  token!: string;

  @Field({ description: 'Room id.' })
  roomId!: string;

  @Field({ description: '`viewer` or `streamer`.' })
  livestream!: string;
}

@ObjectType('Red5Credential', {
  description:
    'Red5 Pro: pass username, password and token in the connection params; Red5 asks Roomkey to validate them.',
})
export class Red5CredentialModel {
  @Field({ description: 'Stream name the credential is bound to.' })
  streamId!: string;

  @Field({ description: '`publisher` or `subscriber`.' })
  type!: string;

  @Field({ description: 'Random user name.' })
  username!: string;

  @Field({ description: 'Random password (stored only as a hash).' })
  password!: string;

  @Field({ description: '256-bit token (stored only as a hash).' })
  token!: string;
}

const MODEL_BY_KIND = {
  [ProviderKind.OPENVIDU]: OpenViduCredentialModel,
  [ProviderKind.LIVEKIT]: LiveKitCredentialModel,
  [ProviderKind.PEXIP]: PexipCredentialModel,
  [ProviderKind.AGORA]: AgoraCredentialModel,
  [ProviderKind.FISHJAM]: FishjamCredentialModel,
  [ProviderKind.RED5]: Red5CredentialModel,
};

export type JoinCredentialModel =
  | OpenViduCredentialModel
  | LiveKitCredentialModel
  | PexipCredentialModel
  | AgoraCredentialModel
  | FishjamCredentialModel
  | FishjamLivestreamCredentialModel
  | Red5CredentialModel;

export const JoinCredential = createUnionType({
  name: 'JoinCredential',
  description: 'The vendor-shaped join credential; its type follows the session provider.',
  types: () =>
    [
      OpenViduCredentialModel,
      LiveKitCredentialModel,
      PexipCredentialModel,
      AgoraCredentialModel,
      FishjamCredentialModel,
      FishjamLivestreamCredentialModel,
      Red5CredentialModel,
    ] as const,
  resolveType: (value: object) =>
    value instanceof FishjamLivestreamCredentialModel
      ? FishjamLivestreamCredentialModel
      : (Object.values(MODEL_BY_KIND).find((model) => value instanceof model) ?? null),
});

/** Wraps an adapter's credential in the union member for its vendor (unknown fields dropped). */
export function joinCredentialModel(
  kind: ProviderKind,
  credential: Record<string, unknown>,
): JoinCredentialModel {
  const Model =
    kind === ProviderKind.FISHJAM && typeof credential.livestream === 'string'
      ? FishjamLivestreamCredentialModel
      : MODEL_BY_KIND[kind];
  const model = new Model() as unknown as Record<string, unknown>;
  for (const key of Object.keys(credential)) model[key] = credential[key] ?? null;
  return model as unknown as JoinCredentialModel;
}
