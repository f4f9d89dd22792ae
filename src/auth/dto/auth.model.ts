import { Field, InputType, ObjectType } from '@nestjs/graphql';
import {
  IsBoolean,
  IsEmail,
  IsOptional,
  IsString,
  Length,
  Matches,
  MaxLength,
} from 'class-validator';
import { TenantModel } from '../../tenants/dto/tenant.model';
import { SLUG_PATTERN } from '../../tenants/slug';
import { UserModel } from '../../users/dto/user.model';
import { type IssuedTokens } from '../tokens/token.service';

@ObjectType('AuthPayload', { description: 'Tokens for a signed-in member.' })
export class AuthPayloadModel {
  @Field({
    description:
      'Bearer access token (JWT, ES256), valid until expiresAt (at most 15 minutes). Empty for a cookie session: it is in the HttpOnly session cookie.',
  })
  accessToken!: string;

  @Field({
    description:
      'Opaque refresh token; single use: refreshToken returns a new one each time. Empty for a cookie session: it is in the HttpOnly refresh cookie.',
  })
  refreshToken!: string;

  @Field({ description: 'When the access token expires.' })
  expiresAt!: Date;

  @Field(() => UserModel, { description: 'The signed-in user.' })
  user!: UserModel;

  @Field(() => TenantModel, { description: 'The tenant the tokens act in.' })
  tenant!: TenantModel;

  static from(t: IssuedTokens): AuthPayloadModel {
    return Object.assign(new AuthPayloadModel(), {
      accessToken: t.accessToken,
      refreshToken: t.refreshToken,
      expiresAt: t.expiresAt,
      user: UserModel.from(t.user),
      tenant: TenantModel.from(t.tenant),
    });
  }
}

@InputType({ description: 'Email and password sign-in to one tenant.' })
export class LoginInput {
  @Field({ description: 'Email (case-insensitive).' })
  @IsEmail()
  @MaxLength(320)
  email!: string;

  @Field({ description: 'Password.' })
  @IsString()
  @Length(1, 1024)
  password!: string;

  @Field({ description: 'Slug of the tenant to sign in to.' })
  @IsString()
  @Matches(SLUG_PATTERN)
  tenantSlug!: string;

  @Field(() => Boolean, {
    nullable: true,
    description:
      'Start a cookie session: the tokens go into HttpOnly cookies (Secure over HTTPS), not the answer; GraphQL and the compatibility routes then accept the cookie.',
  })
  @IsOptional()
  @IsBoolean()
  cookie?: boolean | null;
}
