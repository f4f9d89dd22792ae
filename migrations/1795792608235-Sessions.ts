import { type MigrationInterface, type QueryRunner } from 'typeorm';

export class Sessions1795792608235 implements MigrationInterface {
  name = 'Sessions1795792608235';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE TYPE "public"."video_session_status" AS ENUM('CREATING', 'ACTIVE', 'ENDED')`);
    await queryRunner.query(`CREATE TABLE "video_session" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "created_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(), "tenant_id" uuid NOT NULL, "provider" "public"."provider_kind" NOT NULL, "credential_id" uuid, "external_id" character varying(200), "custom_id" character varying(200), "name" character varying(200), "status" "public"."video_session_status" NOT NULL DEFAULT 'ACTIVE', "options" jsonb NOT NULL DEFAULT '{}', "details" jsonb NOT NULL DEFAULT '{}', "created_by_type" character varying(16) NOT NULL, "created_by_id" uuid, "created_by_label" character varying(320) NOT NULL, "ended_at" TIMESTAMP(3) WITH TIME ZONE, "end_reason" character varying(64), CONSTRAINT "PK_083a33866299666671f5df38206" PRIMARY KEY ("id"))`);
    await queryRunner.query(`CREATE INDEX "IDX_c866c708aa2d0311f0d239f4d1" ON "video_session" ("tenant_id") `);
    await queryRunner.query(`CREATE UNIQUE INDEX "uq_video_session_open_custom" ON "video_session" ("tenant_id", "credential_id", "custom_id") WHERE "status" <> 'ENDED' AND "custom_id" IS NOT NULL`);
    await queryRunner.query(`CREATE UNIQUE INDEX "uq_video_session_open_external" ON "video_session" ("credential_id", "external_id") WHERE "status" <> 'ENDED' AND "external_id" IS NOT NULL`);
    await queryRunner.query(`CREATE INDEX "ix_video_session_tenant_provider_created" ON "video_session" ("tenant_id", "provider", "created_at") `);
    await queryRunner.query(`CREATE INDEX "ix_video_session_tenant_status_created" ON "video_session" ("tenant_id", "status", "created_at") `);
    await queryRunner.query(`CREATE INDEX "ix_video_session_tenant_created" ON "video_session" ("tenant_id", "created_at", "id") `);
    await queryRunner.query(`CREATE TYPE "public"."participant_role" AS ENUM('SUBSCRIBER', 'PUBLISHER', 'MODERATOR')`);
    await queryRunner.query(`CREATE TYPE "public"."connection_status" AS ENUM('ISSUED', 'JOINED', 'LEFT', 'REVOKED')`);
    await queryRunner.query(`CREATE TABLE "session_connection" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "created_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(), "tenant_id" uuid NOT NULL, "session_id" uuid NOT NULL, "role" "public"."participant_role" NOT NULL, "identity" character varying(255) NOT NULL, "display_name" character varying(200), "external_id" character varying(200), "status" "public"."connection_status" NOT NULL DEFAULT 'ISSUED', "expires_at" TIMESTAMP(3) WITH TIME ZONE, "revoked_at" TIMESTAMP(3) WITH TIME ZONE, "joined_at" TIMESTAMP(3) WITH TIME ZONE, "left_at" TIMESTAMP(3) WITH TIME ZONE, "token_hash" bytea, "username" character varying(64), "password_hash" bytea, "created_by_type" character varying(16) NOT NULL, "created_by_id" uuid, "created_by_label" character varying(320) NOT NULL, CONSTRAINT "PK_5e91342e5804f906198cb8c04b6" PRIMARY KEY ("id"))`);
    await queryRunner.query(`CREATE INDEX "IDX_78332ab6d982019c403bdb3189" ON "session_connection" ("tenant_id") `);
    await queryRunner.query(`CREATE UNIQUE INDEX "uq_session_connection_username" ON "session_connection" ("username") WHERE "username" IS NOT NULL`);
    await queryRunner.query(`CREATE UNIQUE INDEX "uq_session_connection_token_hash" ON "session_connection" ("token_hash") WHERE "token_hash" IS NOT NULL`);
    await queryRunner.query(`CREATE INDEX "ix_session_connection_session_external" ON "session_connection" ("session_id", "external_id") `);
    await queryRunner.query(`CREATE INDEX "ix_session_connection_session_created" ON "session_connection" ("session_id", "created_at") `);
    await queryRunner.query(`CREATE TABLE "webhook_receipt" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "tenant_id" uuid NOT NULL, "credential_id" uuid NOT NULL, "event_key" character varying(128) NOT NULL, "event" character varying(64) NOT NULL, "received_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_302de5081a79936f0561b4b1bcf" PRIMARY KEY ("id"))`);
    await queryRunner.query(`CREATE UNIQUE INDEX "uq_webhook_receipt_event" ON "webhook_receipt" ("credential_id", "event_key") `);
    await queryRunner.query(`ALTER TABLE "tenant" ADD "compat_cors_origins" text array NOT NULL DEFAULT '{}'`);
    await queryRunner.query(`ALTER TABLE "video_session" ADD CONSTRAINT "FK_8bf50e807e2c57548454de74ecf" FOREIGN KEY ("credential_id") REFERENCES "provider_credential"("id") ON DELETE SET NULL ON UPDATE NO ACTION`);
    await queryRunner.query(`ALTER TABLE "session_connection" ADD CONSTRAINT "FK_81dd1293a6ad0b82ed8a41f8c6d" FOREIGN KEY ("session_id") REFERENCES "video_session"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "session_connection" DROP CONSTRAINT "FK_81dd1293a6ad0b82ed8a41f8c6d"`);
    await queryRunner.query(`ALTER TABLE "video_session" DROP CONSTRAINT "FK_8bf50e807e2c57548454de74ecf"`);
    await queryRunner.query(`ALTER TABLE "tenant" DROP COLUMN "compat_cors_origins"`);
    await queryRunner.query(`DROP INDEX "public"."uq_webhook_receipt_event"`);
    await queryRunner.query(`DROP TABLE "webhook_receipt"`);
    await queryRunner.query(`DROP INDEX "public"."ix_session_connection_session_created"`);
    await queryRunner.query(`DROP INDEX "public"."ix_session_connection_session_external"`);
    await queryRunner.query(`DROP INDEX "public"."uq_session_connection_token_hash"`);
    await queryRunner.query(`DROP INDEX "public"."uq_session_connection_username"`);
    await queryRunner.query(`DROP INDEX "public"."IDX_78332ab6d982019c403bdb3189"`);
    await queryRunner.query(`DROP TABLE "session_connection"`);
    await queryRunner.query(`DROP TYPE "public"."connection_status"`);
    await queryRunner.query(`DROP TYPE "public"."participant_role"`);
    await queryRunner.query(`DROP INDEX "public"."ix_video_session_tenant_created"`);
    await queryRunner.query(`DROP INDEX "public"."ix_video_session_tenant_status_created"`);
    await queryRunner.query(`DROP INDEX "public"."ix_video_session_tenant_provider_created"`);
    await queryRunner.query(`DROP INDEX "public"."uq_video_session_open_external"`);
    await queryRunner.query(`DROP INDEX "public"."uq_video_session_open_custom"`);
    await queryRunner.query(`DROP INDEX "public"."IDX_c866c708aa2d0311f0d239f4d1"`);
    await queryRunner.query(`DROP TABLE "video_session"`);
    await queryRunner.query(`DROP TYPE "public"."video_session_status"`);
  }
}
