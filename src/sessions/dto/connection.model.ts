import { Field, ID, ObjectType } from '@nestjs/graphql';
import { ActorType } from '../../common/auth/roles';
import { ParticipantRole, ProviderKind } from '../../providers/provider-kind';
import { type SessionConnection } from '../connection.entity';
import { ConnectionStatus } from '../session-status';
import { JoinCredential, type JoinCredentialModel } from './join-credential.model';

@ObjectType('Connection', { description: 'One join credential issued for a session.' })
export class ConnectionModel {
  @Field(() => ID, { description: 'Roomkey id.' })
  id!: string;

  @Field(() => ID, { description: 'Session it admits to.' })
  sessionId!: string;

  @Field(() => ProviderKind, { description: 'Vendor.' })
  provider!: ProviderKind;

  @Field(() => ParticipantRole, { description: 'What it allows.' })
  role!: ParticipantRole;

  @Field({ description: 'Participant identity given to the vendor.' })
  identity!: string;

  @Field(() => String, { nullable: true, description: 'Display name.' })
  displayName!: string | null;

  @Field(() => String, {
    nullable: true,
    description: "The vendor's id: OpenVidu connection, Pexip participant, Fishjam peer.",
  })
  externalId!: string | null;

  @Field(() => ConnectionStatus, { description: 'Lifecycle status.' })
  status!: ConnectionStatus;

  @Field(() => Date, {
    nullable: true,
    description: 'When the credential stops working; null when the vendor sets no expiry.',
  })
  expiresAt!: Date | null;

  @Field(() => Date, { nullable: true, description: 'When it was revoked.' })
  revokedAt!: Date | null;

  @Field(() => Date, { nullable: true, description: 'When the vendor reported the join.' })
  joinedAt!: Date | null;

  @Field(() => Date, { nullable: true, description: 'When the vendor reported the leave.' })
  leftAt!: Date | null;

  @Field(() => ActorType, { description: 'Kind of actor that created it.' })
  createdByType!: ActorType;

  @Field(() => ID, { nullable: true, description: 'User or API key id that created it.' })
  createdBy!: string | null;

  @Field({ description: 'Created.' })
  createdAt!: Date;

  @Field(() => JoinCredential, {
    nullable: true,
    description:
      'The credential itself. Returned only by the mutation that issues it: Roomkey never stores join secrets.',
  })
  credential!: JoinCredentialModel | null;

  static from(
    c: SessionConnection,
    provider: ProviderKind,
    credential: JoinCredentialModel | null = null,
  ): ConnectionModel {
    return Object.assign(new ConnectionModel(), {
      id: c.id,
      sessionId: c.sessionId,
      provider,
      role: c.role,
      identity: c.identity,
      displayName: c.displayName,
      externalId: c.externalId,
      status: c.status,
      expiresAt: c.expiresAt,
      revokedAt: c.revokedAt,
      joinedAt: c.joinedAt,
      leftAt: c.leftAt,
      createdByType: c.createdByType,
      createdBy: c.createdById,
      createdAt: c.createdAt,
      credential,
    });
  }
}
