import { type MigrationInterface, type QueryRunner } from 'typeorm';

export class JoinLinks1796549590510 implements MigrationInterface {
  name = 'JoinLinks1796549590510';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE TABLE "join_link" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "created_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(), "tenant_id" uuid NOT NULL, "key_id" character varying(64) NOT NULL, "name" character varying(200) NOT NULL, "provider" "public"."provider_kind" NOT NULL, "room_pattern" character varying(200) NOT NULL, "max_role" "public"."participant_role" NOT NULL, "origins" jsonb NOT NULL, "rate_per_minute" integer NOT NULL, "secret_hash" bytea NOT NULL, "created_by_user_id" uuid, "expires_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL, "revoked_at" TIMESTAMP(3) WITH TIME ZONE, CONSTRAINT "PK_fdf0d60b123c9b261841c5a6d12" PRIMARY KEY ("id"))`);
    await queryRunner.query(`CREATE INDEX "IDX_5e8a778db42a0a7ea461d8b1ba" ON "join_link" ("tenant_id") `);
    await queryRunner.query(`CREATE UNIQUE INDEX "uq_join_link_key_id" ON "join_link" ("key_id") `);
    await queryRunner.query(`ALTER TABLE "join_link" ADD CONSTRAINT "FK_5e8a778db42a0a7ea461d8b1bae" FOREIGN KEY ("tenant_id") REFERENCES "tenant"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "join_link" DROP CONSTRAINT "FK_5e8a778db42a0a7ea461d8b1bae"`);
    await queryRunner.query(`DROP INDEX "public"."uq_join_link_key_id"`);
    await queryRunner.query(`DROP INDEX "public"."IDX_5e8a778db42a0a7ea461d8b1ba"`);
    await queryRunner.query(`DROP TABLE "join_link"`);
  }
}
