import { type MigrationInterface, type QueryRunner } from 'typeorm';

export class SingleSignOn1795347298652 implements MigrationInterface {
  name = 'SingleSignOn1795347298652';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE TYPE "public"."identity_provider_kind" AS ENUM('OIDC', 'SAML')`);
    await queryRunner.query(`CREATE TABLE "identity_provider" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "created_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(), "tenant_id" uuid NOT NULL, "kind" "public"."identity_provider_kind" NOT NULL, "enabled" boolean NOT NULL DEFAULT true, "config" jsonb NOT NULL, "secret_sealed" text, "secret_fingerprint" character varying(32), CONSTRAINT "PK_5f038d63f2887fd0893ae4c5736" PRIMARY KEY ("id"))`);
    await queryRunner.query(`CREATE INDEX "IDX_ee7545b0ac188097a2e1af5686" ON "identity_provider" ("tenant_id") `);
    await queryRunner.query(`CREATE UNIQUE INDEX "uq_identity_provider_tenant_kind" ON "identity_provider" ("tenant_id", "kind") `);
    await queryRunner.query(`CREATE TABLE "jwt_issuer" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "created_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(), "tenant_id" uuid NOT NULL, "issuer" character varying(500) NOT NULL, "jwks_uri" character varying(500) NOT NULL, "audience" character varying(500) NOT NULL, "algorithms" jsonb NOT NULL, "claim_mapping" jsonb NOT NULL, "role_mapping" jsonb NOT NULL, "enabled" boolean NOT NULL DEFAULT true, CONSTRAINT "PK_2c07043bf103d5da598dbe7ac24" PRIMARY KEY ("id"))`);
    await queryRunner.query(`CREATE INDEX "IDX_1c1ab97ef35efae165fc96cb79" ON "jwt_issuer" ("tenant_id") `);
    await queryRunner.query(`CREATE UNIQUE INDEX "uq_jwt_issuer_issuer_audience" ON "jwt_issuer" ("issuer", "audience") `);
    await queryRunner.query(`CREATE TABLE "external_identity" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "created_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(), "tenant_id" uuid NOT NULL, "issuer" character varying(500) NOT NULL, "subject" character varying(500) NOT NULL, "user_id" uuid NOT NULL, CONSTRAINT "PK_390cd58fc7a0124d5fc815e99a3" PRIMARY KEY ("id"))`);
    await queryRunner.query(`CREATE INDEX "IDX_37bd3d9297aa2399b6a5163256" ON "external_identity" ("tenant_id") `);
    await queryRunner.query(`CREATE INDEX "IDX_7a82460d06d5f9d401f8421059" ON "external_identity" ("user_id") `);
    await queryRunner.query(`CREATE UNIQUE INDEX "uq_external_identity" ON "external_identity" ("tenant_id", "issuer", "subject") `);
    await queryRunner.query(`CREATE TABLE "login_attempt" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "tenant_id" uuid NOT NULL, "kind" character varying(24) NOT NULL, "lookup" character varying(128) NOT NULL, "data" jsonb NOT NULL, "expires_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL, "used_at" TIMESTAMP(3) WITH TIME ZONE, "created_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_72829cd4f7424e3cdfd46c476c0" PRIMARY KEY ("id"))`);
    await queryRunner.query(`CREATE UNIQUE INDEX "uq_login_attempt_lookup" ON "login_attempt" ("lookup") `);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "public"."uq_login_attempt_lookup"`);
    await queryRunner.query(`DROP TABLE "login_attempt"`);
    await queryRunner.query(`DROP INDEX "public"."uq_external_identity"`);
    await queryRunner.query(`DROP INDEX "public"."IDX_7a82460d06d5f9d401f8421059"`);
    await queryRunner.query(`DROP INDEX "public"."IDX_37bd3d9297aa2399b6a5163256"`);
    await queryRunner.query(`DROP TABLE "external_identity"`);
    await queryRunner.query(`DROP INDEX "public"."uq_jwt_issuer_issuer_audience"`);
    await queryRunner.query(`DROP INDEX "public"."IDX_1c1ab97ef35efae165fc96cb79"`);
    await queryRunner.query(`DROP TABLE "jwt_issuer"`);
    await queryRunner.query(`DROP INDEX "public"."uq_identity_provider_tenant_kind"`);
    await queryRunner.query(`DROP INDEX "public"."IDX_ee7545b0ac188097a2e1af5686"`);
    await queryRunner.query(`DROP TABLE "identity_provider"`);
    await queryRunner.query(`DROP TYPE "public"."identity_provider_kind"`);
  }
}
