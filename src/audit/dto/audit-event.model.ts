import { Field, ID, InputType, ObjectType, registerEnumType } from '@nestjs/graphql';
import GraphQLJSON from 'graphql-type-json';
import { IsDate, IsEnum, IsOptional, IsString, Length, Matches, MaxLength } from 'class-validator';
import { ActorType, AuthMethod } from '../../common/auth/roles';
import { AuditOutcome, type AuditEvent } from '../audit-event.entity';

registerEnumType(AuditOutcome, {
  name: 'AuditOutcome',
  description: 'Whether the audited attempt succeeded.',
});

@ObjectType('AuditEvent', { description: 'One tamper-evident audit record.' })
export class AuditEventModel {
  @Field(() => ID, { description: 'Event id.' })
  id!: string;

  @Field({ description: 'Position in the tenant chain (1, 2, 3…, gap-free), as a decimal string.' })
  seq!: string;

  @Field({ description: 'When it happened (UTC).' })
  occurredAt!: Date;

  @Field(() => ActorType, { description: 'Kind of actor.' })
  actorType!: ActorType;

  @Field(() => String, { nullable: true, description: 'User or API key id.' })
  actorId!: string | null;

  @Field({ description: 'Email or key id of the actor (never a secret).' })
  actorLabel!: string;

  @Field(() => AuthMethod, { description: 'How the actor authenticated.' })
  authMethod!: AuthMethod;

  @Field({ description: 'Dotted action name, e.g. member.added.' })
  action!: string;

  @Field(() => String, { nullable: true, description: 'Kind of thing acted on.' })
  targetType!: string | null;

  @Field(() => String, { nullable: true, description: 'Id of the thing acted on.' })
  targetId!: string | null;

  @Field(() => AuditOutcome, { description: 'SUCCESS, FAILURE or DENIED.' })
  outcome!: AuditOutcome;

  @Field(() => String, { nullable: true, description: 'Error code of a failure or denial.' })
  errorCode!: string | null;

  @Field(() => String, {
    nullable: true,
    description: 'Client IP (as seen through trusted proxies).',
  })
  clientIp!: string | null;

  @Field(() => String, { nullable: true, description: 'User agent, truncated.' })
  userAgent!: string | null;

  @Field(() => String, { nullable: true, description: 'Request id, to correlate with logs.' })
  requestId!: string | null;

  @Field(() => GraphQLJSON, {
    description: 'Action-specific details: ids, roles, reason codes (bounded).',
  })
  metadata!: Record<string, unknown>;

  @Field({ description: 'Hash of the previous event in the chain (hex).' })
  prevHash!: string;

  @Field({ description: 'HMAC-SHA256 of prevHash and this event (hex).' })
  hash!: string;

  @Field({ description: 'Id of the audit key that produced the hash.' })
  keyId!: string;

  static from(e: AuditEvent): AuditEventModel {
    return Object.assign(new AuditEventModel(), {
      ...e,
      seq: String(e.seq),
      actorType: e.actorType as ActorType,
      authMethod: e.authMethod as AuthMethod,
    });
  }
}

@InputType({ description: 'Audit log filters; all optional, combined with AND.' })
export class AuditEventFilter {
  @Field(() => String, { nullable: true, description: 'Exact action name, e.g. api_key.created.' })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  @Matches(/^[a-z0-9_]+(\.[a-z0-9_]+)+$/, { message: 'action must be a dotted action name' })
  action?: string | null;

  @Field(() => String, { nullable: true, description: 'User or API key id.' })
  @IsOptional()
  @IsString()
  @Length(1, 64)
  actorId?: string | null;

  @Field(() => String, { nullable: true, description: 'Target type, e.g. member.' })
  @IsOptional()
  @IsString()
  @Length(1, 40)
  targetType?: string | null;

  @Field(() => String, { nullable: true, description: 'Target id.' })
  @IsOptional()
  @IsString()
  @Length(1, 128)
  targetId?: string | null;

  @Field(() => AuditOutcome, { nullable: true, description: 'Outcome.' })
  @IsOptional()
  @IsEnum(AuditOutcome)
  outcome?: AuditOutcome | null;

  @Field(() => Date, { nullable: true, description: 'Inclusive lower bound on occurredAt.' })
  @IsOptional()
  @IsDate()
  from?: Date | null;

  @Field(() => Date, { nullable: true, description: 'Exclusive upper bound on occurredAt.' })
  @IsOptional()
  @IsDate()
  to?: Date | null;
}

@ObjectType('AuditVerification', { description: 'Result of re-computing the tenant audit chain.' })
export class AuditVerificationModel {
  @Field({ description: 'True when every event verifies and the chain reaches its head.' })
  ok!: boolean;

  @Field({ description: 'Events that verified before the first problem (or all of them).' })
  checkedCount!: number;

  @Field(() => ID, { nullable: true, description: 'The first event that fails verification.' })
  firstInvalidEventId!: string | null;

  @Field(() => String, {
    nullable: true,
    description:
      'Why: hash_mismatch, previous_hash_mismatch, sequence_gap, sequence_out_of_order, unknown_key, events_missing_at_end or checkpoint_signature_invalid.',
  })
  reason!: string | null;
}
