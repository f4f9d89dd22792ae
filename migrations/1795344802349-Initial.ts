import { type MigrationInterface, type QueryRunner } from 'typeorm';

export class Initial1795344802349 implements MigrationInterface {
  name = 'Initial1795344802349';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE TABLE "tenant" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "created_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(), "slug" character varying(40) NOT NULL, "name" character varying(200) NOT NULL, CONSTRAINT "PK_da8c6efd67bb301e810e56ac139" PRIMARY KEY ("id"))`);
    await queryRunner.query(`CREATE UNIQUE INDEX "uq_tenant_slug" ON "tenant" ("slug") `);
    await queryRunner.query(`CREATE TYPE "public"."api_key_role" AS ENUM('OWNER', 'ADMIN', 'MEMBER')`);
    await queryRunner.query(`CREATE TABLE "api_key" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "created_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(), "tenant_id" uuid NOT NULL, "key_id" character varying(64) NOT NULL, "name" character varying(200) NOT NULL, "role" "public"."api_key_role" NOT NULL, "secret_hash" bytea NOT NULL, "created_by_user_id" uuid, "expires_at" TIMESTAMP(3) WITH TIME ZONE, "revoked_at" TIMESTAMP(3) WITH TIME ZONE, "last_used_at" TIMESTAMP(3) WITH TIME ZONE, CONSTRAINT "PK_b1bd840641b8acbaad89c3d8d11" PRIMARY KEY ("id"))`);
    await queryRunner.query(`CREATE INDEX "IDX_6101b7dd3373e2cef8f373551d" ON "api_key" ("tenant_id") `);
    await queryRunner.query(`CREATE UNIQUE INDEX "uq_api_key_key_id" ON "api_key" ("key_id") `);
    await queryRunner.query(`CREATE TABLE "app_user" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "created_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(), "email" character varying(320) NOT NULL, "display_name" character varying(200) NOT NULL, "password_hash" character varying(255), "is_platform_admin" boolean NOT NULL DEFAULT false, CONSTRAINT "PK_22a5c4a3d9b2fb8e4e73fc4ada1" PRIMARY KEY ("id"))`);
    await queryRunner.query(`CREATE UNIQUE INDEX "uq_user_email" ON "app_user" ("email") `);
    await queryRunner.query(`CREATE TYPE "public"."membership_role" AS ENUM('OWNER', 'ADMIN', 'MEMBER')`);
    await queryRunner.query(`CREATE TABLE "membership" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "created_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(), "tenant_id" uuid NOT NULL, "user_id" uuid NOT NULL, "role" "public"."membership_role" NOT NULL, CONSTRAINT "PK_83c1afebef3059472e7c37e8de8" PRIMARY KEY ("id"))`);
    await queryRunner.query(`CREATE INDEX "IDX_ccc7d9df9ca83f3a0cbc468608" ON "membership" ("tenant_id") `);
    await queryRunner.query(`CREATE INDEX "IDX_e9c72e8d29784031c96f5c6af8" ON "membership" ("user_id") `);
    await queryRunner.query(`CREATE UNIQUE INDEX "uq_membership_tenant_user" ON "membership" ("tenant_id", "user_id") `);
    await queryRunner.query(`ALTER TABLE "api_key" ADD CONSTRAINT "FK_6101b7dd3373e2cef8f373551de" FOREIGN KEY ("tenant_id") REFERENCES "tenant"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
    await queryRunner.query(`ALTER TABLE "membership" ADD CONSTRAINT "FK_ccc7d9df9ca83f3a0cbc4686086" FOREIGN KEY ("tenant_id") REFERENCES "tenant"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
    await queryRunner.query(`ALTER TABLE "membership" ADD CONSTRAINT "FK_e9c72e8d29784031c96f5c6af8d" FOREIGN KEY ("user_id") REFERENCES "app_user"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "membership" DROP CONSTRAINT "FK_e9c72e8d29784031c96f5c6af8d"`);
    await queryRunner.query(`ALTER TABLE "membership" DROP CONSTRAINT "FK_ccc7d9df9ca83f3a0cbc4686086"`);
    await queryRunner.query(`ALTER TABLE "api_key" DROP CONSTRAINT "FK_6101b7dd3373e2cef8f373551de"`);
    await queryRunner.query(`DROP INDEX "public"."uq_membership_tenant_user"`);
    await queryRunner.query(`DROP INDEX "public"."IDX_e9c72e8d29784031c96f5c6af8"`);
    await queryRunner.query(`DROP INDEX "public"."IDX_ccc7d9df9ca83f3a0cbc468608"`);
    await queryRunner.query(`DROP TABLE "membership"`);
    await queryRunner.query(`DROP TYPE "public"."membership_role"`);
    await queryRunner.query(`DROP INDEX "public"."uq_user_email"`);
    await queryRunner.query(`DROP TABLE "app_user"`);
    await queryRunner.query(`DROP INDEX "public"."uq_api_key_key_id"`);
    await queryRunner.query(`DROP INDEX "public"."IDX_6101b7dd3373e2cef8f373551d"`);
    await queryRunner.query(`DROP TABLE "api_key"`);
    await queryRunner.query(`DROP TYPE "public"."api_key_role"`);
    await queryRunner.query(`DROP INDEX "public"."uq_tenant_slug"`);
    await queryRunner.query(`DROP TABLE "tenant"`);
  }
}
