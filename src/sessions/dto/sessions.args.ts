import { ArgsType, Field, ID, InputType } from '@nestjs/graphql';
import { Type } from 'class-transformer';
import { IsDate, IsEnum, IsOptional, IsUUID, ValidateNested } from 'class-validator';
import { PageArgs } from '../../common/graphql/pagination';
import { ProviderKind } from '../../providers/provider-kind';
import { VisibleSessionStatus } from '../session-status';

@InputType({ description: 'Narrows `sessions`. All conditions must hold.' })
export class SessionFilterInput {
  @Field(() => ProviderKind, { nullable: true, description: 'Only this vendor.' })
  @IsOptional()
  @IsEnum(ProviderKind)
  provider?: ProviderKind | null;

  @Field(() => VisibleSessionStatus, { nullable: true, description: 'Only ACTIVE or only ENDED.' })
  @IsOptional()
  @IsEnum(VisibleSessionStatus)
  status?: VisibleSessionStatus | null;

  @Field(() => ID, {
    nullable: true,
    description: 'Only those created by this user or API key id.',
  })
  @IsOptional()
  @IsUUID()
  createdBy?: string | null;

  @Field(() => Date, { nullable: true, description: 'Created at or after.' })
  @IsOptional()
  @IsDate()
  from?: Date | null;

  @Field(() => Date, { nullable: true, description: 'Created before.' })
  @IsOptional()
  @IsDate()
  to?: Date | null;
}

@ArgsType()
export class SessionsArgs extends PageArgs {
  @Field(() => SessionFilterInput, { nullable: true, description: 'Filter.' })
  @IsOptional()
  @ValidateNested()
  @Type(() => SessionFilterInput)
  filter?: SessionFilterInput | null;
}
