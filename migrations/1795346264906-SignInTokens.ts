import { type MigrationInterface, type QueryRunner } from 'typeorm';

export class SignInTokens1795346264906 implements MigrationInterface {
  name = 'SignInTokens1795346264906';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE TABLE "signing_key" ("kid" character varying(64) NOT NULL, "alg" character varying(16) NOT NULL, "public_jwk" jsonb NOT NULL, "private_key_sealed" text NOT NULL, "created_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(), "retired_at" TIMESTAMP(3) WITH TIME ZONE, CONSTRAINT "PK_00d7e305393ab903d6eb06c11f9" PRIMARY KEY ("kid"))`);
    await queryRunner.query(`CREATE TABLE "refresh_token" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "created_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(), "tenant_id" uuid NOT NULL, "token_hash" bytea NOT NULL, "family_id" uuid NOT NULL, "user_id" uuid NOT NULL, "auth_method" character varying(32) NOT NULL, "expires_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL, "used_at" TIMESTAMP(3) WITH TIME ZONE, "revoked_at" TIMESTAMP(3) WITH TIME ZONE, CONSTRAINT "PK_b575dd3c21fb0831013c909e7fe" PRIMARY KEY ("id"))`);
    await queryRunner.query(`CREATE INDEX "IDX_bad6f2d9e82f894840ec9b49ad" ON "refresh_token" ("tenant_id") `);
    await queryRunner.query(`CREATE UNIQUE INDEX "uq_refresh_token_hash" ON "refresh_token" ("token_hash") `);
    await queryRunner.query(`CREATE INDEX "ix_refresh_token_family" ON "refresh_token" ("family_id") `);
    await queryRunner.query(`CREATE TABLE "login_code" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "code_hash" bytea NOT NULL, "tenant_id" uuid NOT NULL, "user_id" uuid NOT NULL, "auth_method" character varying(32) NOT NULL, "expires_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL, "used_at" TIMESTAMP(3) WITH TIME ZONE, CONSTRAINT "PK_1ee613586a5aec6821c1df9403b" PRIMARY KEY ("id"))`);
    await queryRunner.query(`CREATE UNIQUE INDEX "uq_login_code_hash" ON "login_code" ("code_hash") `);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "public"."uq_login_code_hash"`);
    await queryRunner.query(`DROP TABLE "login_code"`);
    await queryRunner.query(`DROP INDEX "public"."ix_refresh_token_family"`);
    await queryRunner.query(`DROP INDEX "public"."uq_refresh_token_hash"`);
    await queryRunner.query(`DROP INDEX "public"."IDX_bad6f2d9e82f894840ec9b49ad"`);
    await queryRunner.query(`DROP TABLE "refresh_token"`);
    await queryRunner.query(`DROP TABLE "signing_key"`);
  }
}
