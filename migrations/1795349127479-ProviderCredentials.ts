import { type MigrationInterface, type QueryRunner } from 'typeorm';

export class ProviderCredentials1795349127479 implements MigrationInterface {
  name = 'ProviderCredentials1795349127479';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE TYPE "public"."provider_kind" AS ENUM('OPENVIDU', 'LIVEKIT', 'PEXIP', 'AGORA', 'FISHJAM', 'RED5')`);
    await queryRunner.query(`CREATE TABLE "provider_credential" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "created_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(), "tenant_id" uuid NOT NULL, "kind" "public"."provider_kind" NOT NULL, "name" character varying(100) NOT NULL, "is_default" boolean NOT NULL DEFAULT false, "config" jsonb NOT NULL, "secrets" jsonb NOT NULL, "secret_fingerprint" character varying(32), "key_version" character varying(32), CONSTRAINT "PK_17fd6acbdedcea273d5aebe5743" PRIMARY KEY ("id"))`);
    await queryRunner.query(`CREATE INDEX "IDX_59416f5aec294156beec74d785" ON "provider_credential" ("tenant_id") `);
    await queryRunner.query(`CREATE UNIQUE INDEX "uq_provider_credential_default" ON "provider_credential" ("tenant_id", "kind") WHERE "is_default"`);
    await queryRunner.query(`CREATE UNIQUE INDEX "uq_provider_credential_tenant_name" ON "provider_credential" ("tenant_id", "name") `);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "public"."uq_provider_credential_tenant_name"`);
    await queryRunner.query(`DROP INDEX "public"."uq_provider_credential_default"`);
    await queryRunner.query(`DROP INDEX "public"."IDX_59416f5aec294156beec74d785"`);
    await queryRunner.query(`DROP TABLE "provider_credential"`);
    await queryRunner.query(`DROP TYPE "public"."provider_kind"`);
  }
}
