import { applyDecorators } from '@nestjs/common';
import { Field, ID, InputType, ObjectType, registerEnumType } from '@nestjs/graphql';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsBoolean,
  IsEnum,
  IsIn,
  IsOptional,
  IsString,
  Length,
  MaxLength,
  ValidateNested,
} from 'class-validator';
import { MemberRole } from '../../common/auth/roles';
import { IdentityProviderKind } from './identity-provider.entities';

registerEnumType(IdentityProviderKind, {
  name: 'IdentityProviderKind',
  description: 'OIDC or SAML.',
});

@InputType({ description: 'Maps one IdP role value (claim or attribute) to a Roomkey role.' })
export class RoleMappingInput {
  @Field({ description: 'Value as sent by the identity provider, e.g. "roomkey-admins".' })
  @IsString()
  @Length(1, 200)
  value!: string;

  @Field(() => MemberRole, { description: 'Role granted when the value is present.' })
  @IsEnum(MemberRole)
  role!: MemberRole;
}

/** The optional role-mapping list every sign-in configuration takes. */
const RoleMappingField = (): PropertyDecorator =>
  applyDecorators(
    Field(() => [RoleMappingInput], {
      nullable: true,
      description: 'Role mapping; MEMBER when none matches.',
    }),
    IsOptional(),
    IsArray(),
    ArrayMaxSize(50),
    ValidateNested({ each: true }),
    Type(() => RoleMappingInput),
  );

/** The optional on/off switch of a sign-in configuration (default on). */
const EnabledField = (): PropertyDecorator =>
  applyDecorators(
    Field(() => Boolean, { nullable: true, description: 'Default true.' }),
    IsOptional(),
    IsBoolean(),
  );

@ObjectType('RoleMapping', { description: 'IdP role value → Roomkey role.' })
export class RoleMappingModel {
  @Field({ description: 'Value as sent by the identity provider.' })
  value!: string;

  @Field(() => MemberRole, { description: 'Role granted.' })
  role!: MemberRole;
}

@InputType({
  description: "OpenID Connect sign-in for the caller's tenant (authorization code + PKCE).",
})
export class ConfigureOidcProviderInput {
  @Field({ description: 'Issuer URL; must equal the issuer in its discovery document exactly.' })
  @IsString()
  @MaxLength(500)
  issuer!: string;

  @Field({ description: 'OAuth client id registered at the IdP.' })
  @IsString()
  @Length(1, 300)
  clientId!: string;

  @Field(() => String, {
    nullable: true,
    description: 'Client secret: write-only, stored encrypted. Omit to keep the current one.',
  })
  @IsOptional()
  @IsString()
  @Length(1, 1000)
  clientSecret?: string | null;

  @Field(() => [String], { nullable: true, description: 'Scopes (default: openid email profile).' })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(20)
  @IsString({ each: true })
  scopes?: string[] | null;

  @Field(() => [String], {
    description: 'Exact URIs the browser may be sent back to after sign-in.',
  })
  @IsArray()
  @ArrayMaxSize(20)
  @IsString({ each: true })
  redirectUris!: string[];

  @Field(() => String, {
    nullable: true,
    description: 'ID-token claim holding roles (default "roles").',
  })
  @IsOptional()
  @IsString()
  @Length(1, 100)
  rolesClaim?: string | null;

  @RoleMappingField()
  roleMapping?: RoleMappingInput[] | null;

  @Field(() => [String], {
    nullable: true,
    description: 'If set, only emails in these domains may sign in.',
  })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(50)
  @IsString({ each: true })
  allowedEmailDomains?: string[] | null;

  @EnabledField()
  enabled?: boolean | null;
}

@InputType({ description: 'Which SAML attributes hold the email, display name and roles.' })
export class SamlAttributeMappingInput {
  @Field(() => String, { nullable: true, description: 'Default: "email" (NameID when absent).' })
  @IsOptional()
  @IsString()
  @Length(1, 200)
  email?: string | null;

  @Field(() => String, { nullable: true, description: 'Default: "displayName".' })
  @IsOptional()
  @IsString()
  @Length(1, 200)
  displayName?: string | null;

  @Field(() => String, { nullable: true, description: 'Default: "roles".' })
  @IsOptional()
  @IsString()
  @Length(1, 200)
  roles?: string | null;
}

@InputType({
  description: "SAML 2.0 sign-in for the caller's tenant (signed assertions, SHA-256).",
})
export class ConfigureSamlProviderInput {
  @Field({ description: 'Entity id of the identity provider (the assertion Issuer).' })
  @IsString()
  @Length(1, 500)
  idpEntityId!: string;

  @Field({ description: 'IdP single sign-on URL (HTTP-Redirect binding).' })
  @IsString()
  @MaxLength(1000)
  ssoUrl!: string;

  @Field(() => [String], {
    description: 'IdP signing certificates (PEM or base64 DER); one or more.',
  })
  @IsArray()
  @ArrayMaxSize(5)
  @IsString({ each: true })
  idpCertificates!: string[];

  @Field(() => SamlAttributeMappingInput, { nullable: true, description: 'Attribute names.' })
  @IsOptional()
  @ValidateNested()
  @Type(() => SamlAttributeMappingInput)
  attributeMapping?: SamlAttributeMappingInput | null;

  @RoleMappingField()
  roleMapping?: RoleMappingInput[] | null;

  @Field(() => [String], {
    description: 'Exact URIs (and RelayState values) the browser may be sent to.',
  })
  @IsArray()
  @ArrayMaxSize(20)
  @IsString({ each: true })
  redirectUris!: string[];

  @Field(() => Boolean, {
    nullable: true,
    description: 'Accept IdP-initiated (unsolicited) responses. Default false.',
  })
  @IsOptional()
  @IsBoolean()
  allowUnsolicited?: boolean | null;

  @EnabledField()
  enabled?: boolean | null;
}

@ObjectType('IdentityProvider', {
  description: 'A tenant sign-in method. Never exposes the client secret.',
})
export class IdentityProviderModel {
  @Field(() => ID, { description: 'Id.' })
  id!: string;

  @Field(() => IdentityProviderKind, { description: 'OIDC or SAML.' })
  kind!: IdentityProviderKind;

  @Field({ description: 'Whether sign-in through it is allowed.' })
  enabled!: boolean;

  @Field({ description: 'OIDC issuer or SAML IdP entity id.' })
  issuer!: string;

  @Field(() => String, { nullable: true, description: 'OIDC client id.' })
  clientId!: string | null;

  @Field({ description: 'True when a client secret is stored (it is never returned).' })
  hasClientSecret!: boolean;

  @Field(() => String, { nullable: true, description: 'Keyed fingerprint of the client secret.' })
  secretFingerprint!: string | null;

  @Field(() => [String], { description: 'Allowed redirect URIs.' })
  redirectUris!: string[];

  @Field(() => [RoleMappingModel], { description: 'Role mapping.' })
  roleMapping!: RoleMappingModel[];

  @Field({ description: 'Where a browser starts the sign-in (add ?redirect_uri=…).' })
  loginUrl!: string;

  @Field(() => String, {
    nullable: true,
    description: 'OIDC: the callback URL to register at the IdP.',
  })
  callbackUrl!: string | null;

  @Field(() => String, { nullable: true, description: 'SAML: SP metadata URL (entity id).' })
  metadataUrl!: string | null;

  @Field(() => String, { nullable: true, description: 'SAML: assertion consumer service URL.' })
  acsUrl!: string | null;

  @Field({ description: 'Last change.' })
  updatedAt!: Date;
}

@InputType({ description: "Trust bearer JWTs from an external issuer for the caller's tenant." })
export class ConfigureJwtIssuerInput {
  @Field({ description: 'Expected `iss`, exactly.' })
  @IsString()
  @Length(1, 500)
  issuer!: string;

  @Field({ description: 'JWKS URL of the issuer (https).' })
  @IsString()
  @MaxLength(500)
  jwksUri!: string;

  @Field({ description: 'Expected `aud`. (issuer, audience) is unique across tenants.' })
  @IsString()
  @Length(1, 500)
  audience!: string;

  @Field(() => [String], { nullable: true, description: 'Allowed algorithms (default RS256).' })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(6)
  @IsIn(
    ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'],
    { each: true },
  )
  algorithms?: string[] | null;

  @Field(() => String, { nullable: true, description: 'Claim with the email (default "email").' })
  @IsOptional()
  @IsString()
  @Length(1, 100)
  emailClaim?: string | null;

  @Field(() => String, {
    nullable: true,
    description: 'Claim with the display name (default "name").',
  })
  @IsOptional()
  @IsString()
  @Length(1, 100)
  nameClaim?: string | null;

  @Field(() => String, { nullable: true, description: 'Claim with roles (default "roles").' })
  @IsOptional()
  @IsString()
  @Length(1, 100)
  rolesClaim?: string | null;

  @RoleMappingField()
  roleMapping?: RoleMappingInput[] | null;

  @EnabledField()
  enabled?: boolean | null;
}

@ObjectType('JwtIssuer', { description: 'A trusted external JWT issuer of the tenant.' })
export class JwtIssuerModel {
  @Field(() => ID, { description: 'Id.' })
  id!: string;

  @Field({ description: 'Expected iss.' })
  issuer!: string;

  @Field({ description: 'JWKS URL.' })
  jwksUri!: string;

  @Field({ description: 'Expected aud.' })
  audience!: string;

  @Field(() => [String], { description: 'Allowed algorithms.' })
  algorithms!: string[];

  @Field(() => [RoleMappingModel], { description: 'Role mapping.' })
  roleMapping!: RoleMappingModel[];

  @Field({ description: 'Whether tokens are accepted.' })
  enabled!: boolean;

  @Field({ description: 'Last change.' })
  updatedAt!: Date;
}
