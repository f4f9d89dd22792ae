import { Field, ID, Int, ObjectType, registerEnumType } from '@nestjs/graphql';
import { ParticipantRole, ProviderKind } from '../../providers/provider-kind';
import { type JoinLink } from '../join-link.entity';

export enum JoinLinkStatus {
  ACTIVE = 'ACTIVE',
  REVOKED = 'REVOKED',
  EXPIRED = 'EXPIRED',
}
registerEnumType(JoinLinkStatus, {
  name: 'JoinLinkStatus',
  description: 'Whether a join link can still be used.',
});

@ObjectType('JoinLink', {
  description:
    "A scoped key for one vendor's compatibility routes, used as a path segment by front ends that cannot send an Authorization header. Its secret is shown only once, at creation.",
})
export class JoinLinkModel {
  @Field(() => ID, { description: 'Record id (use it with revokeJoinLink).' })
  id!: string;

  @Field({ description: 'Public id (`jl_…`): the first part of the link.' })
  keyId!: string;

  @Field({ description: 'Human-readable name.' })
  name!: string;

  @Field(() => ProviderKind, { description: 'The one vendor whose compatibility routes it opens.' })
  provider!: ProviderKind;

  @Field({ description: 'Room names it may create or join; `*` matches any run of characters.' })
  roomPattern!: string;

  @Field(() => ParticipantRole, { description: 'The highest role it issues.' })
  maxRole!: ParticipantRole;

  @Field(() => [String], { description: 'Browser origins allowed to use it.' })
  origins!: string[];

  @Field(() => Int, { description: 'Requests per minute through this link.' })
  ratePerMinute!: number;

  @Field(() => JoinLinkStatus, { description: 'Active, revoked or expired.' })
  status!: JoinLinkStatus;

  @Field({ description: 'When the link stops working.' })
  expiresAt!: Date;

  @Field(() => Date, { nullable: true, description: 'When the link was revoked.' })
  revokedAt!: Date | null;

  @Field(() => ID, { nullable: true, description: 'User who created the link.' })
  createdByUserId!: string | null;

  @Field({ description: 'When the link was created.' })
  createdAt!: Date;

  static from(l: JoinLink, now = Date.now()): JoinLinkModel {
    const status = l.revokedAt
      ? JoinLinkStatus.REVOKED
      : l.expiresAt.getTime() <= now
        ? JoinLinkStatus.EXPIRED
        : JoinLinkStatus.ACTIVE;
    return Object.assign(new JoinLinkModel(), {
      id: l.id,
      keyId: l.keyId,
      name: l.name,
      provider: l.provider,
      roomPattern: l.roomPattern,
      maxRole: l.maxRole,
      origins: l.origins,
      ratePerMinute: l.ratePerMinute,
      status,
      expiresAt: l.expiresAt,
      revokedAt: l.revokedAt,
      createdByUserId: l.createdByUserId,
      createdAt: l.createdAt,
    });
  }
}

@ObjectType('CreateJoinLinkPayload', { description: 'A new join link and its secret path.' })
export class CreateJoinLinkPayload {
  @Field(() => JoinLinkModel, { description: 'The stored link.' })
  joinLink!: JoinLinkModel;

  @Field({
    description:
      'The link itself (`jl_<id>_<secret>`), shown only this once. Front ends use `/t/<tenant-slug>/j/<link>/<vendor>` as their base URL.',
  })
  link!: string;

  @Field({
    description: 'The base path for the front end: `/t/<tenant-slug>/j/<link>/<vendor>`.',
  })
  basePath!: string;
}
