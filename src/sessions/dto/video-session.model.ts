import { Field, ID, ObjectType } from '@nestjs/graphql';
import GraphQLJSON from 'graphql-type-json';
import { ActorType } from '../../common/auth/roles';
import { Connection as Paginated } from '../../common/graphql/pagination';
import { ProviderKind } from '../../providers/provider-kind';
import { VisibleSessionStatus } from '../session-status';
import { type VideoSession } from '../video-session.entity';

@ObjectType('VideoSession', {
  description: 'A room, session, meeting, channel or stream created through Roomkey.',
})
export class VideoSessionModel {
  @Field(() => ID, { description: 'Roomkey id.' })
  id!: string;

  @Field(() => ProviderKind, { description: 'Vendor.' })
  provider!: ProviderKind;

  @Field(() => ID, {
    nullable: true,
    description: 'Vendor credential used; null once that credential was deleted.',
  })
  credentialId!: string | null;

  @Field({
    description:
      "The vendor's id: OpenVidu session id, LiveKit room, Pexip meeting id, Agora channel, Fishjam room id, Red5 stream.",
  })
  externalId!: string;

  @Field(() => String, { nullable: true, description: 'The idempotency key it was created with.' })
  customSessionId!: string | null;

  @Field(() => String, { nullable: true, description: 'Display name.' })
  name!: string | null;

  @Field(() => VisibleSessionStatus, { description: 'ACTIVE or ENDED.' })
  status!: VisibleSessionStatus;

  @Field(() => GraphQLJSON, { description: 'Non-secret vendor options it was created with.' })
  options!: Record<string, unknown>;

  @Field(() => ActorType, { description: 'Kind of actor that created it.' })
  createdByType!: ActorType;

  @Field(() => ID, {
    nullable: true,
    description:
      'User or API key id that created it (filter with `sessions(filter: {createdBy})`).',
  })
  createdBy!: string | null;

  @Field({ description: "Creator's label: email or API key id." })
  createdByLabel!: string;

  @Field({ description: 'Created.' })
  createdAt!: Date;

  @Field(() => Date, { nullable: true, description: 'Ended, when it has.' })
  endedAt!: Date | null;

  @Field(() => String, {
    nullable: true,
    description:
      'Why it ended: `ended` (endSession), `vendor:<event>` (webhook), `credential_deleted`.',
  })
  endReason!: string | null;

  static from(s: VideoSession): VideoSessionModel {
    return Object.assign(new VideoSessionModel(), {
      id: s.id,
      provider: s.provider,
      credentialId: s.credentialId,
      externalId: s.externalId ?? '',
      customSessionId: s.customId,
      name: s.name,
      status: s.status as string as VisibleSessionStatus,
      options: s.options,
      createdByType: s.createdByType,
      createdBy: s.createdById,
      createdByLabel: s.createdByLabel,
      createdAt: s.createdAt,
      endedAt: s.endedAt,
      endReason: s.endReason,
    });
  }
}

export const VideoSessionPage = Paginated(VideoSessionModel, 'VideoSession');
