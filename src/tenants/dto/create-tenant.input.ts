import { Field, InputType } from '@nestjs/graphql';
import { IsEmail, IsOptional, IsString, Length, Matches } from 'class-validator';
import { SLUG_PATTERN } from '../slug';

@InputType({ description: 'A new tenant and its first owner.' })
export class CreateTenantInput {
  @Field({ description: 'Unique slug: 3-40 of a-z, 0-9 and inner hyphens.' })
  @IsString()
  @Matches(SLUG_PATTERN, { message: 'slug must be 3-40 characters of a-z, 0-9 and inner hyphens' })
  slug!: string;

  @Field({ description: 'Display name (1-200 characters).' })
  @IsString()
  @Length(1, 200)
  name!: string;

  @Field(() => String, {
    nullable: true,
    description:
      'Email of the first OWNER (created without a password if new). Defaults to the caller.',
  })
  @IsOptional()
  @IsEmail()
  ownerEmail?: string | null;
}
