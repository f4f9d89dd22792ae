import { type MigrationInterface, type QueryRunner } from 'typeorm';

export class AuditLog1795345461488 implements MigrationInterface {
  name = 'AuditLog1795345461488';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE TYPE "public"."audit_outcome" AS ENUM('SUCCESS', 'FAILURE', 'DENIED')`);
    await queryRunner.query(`CREATE TABLE "audit_event" ("id" uuid NOT NULL, "tenant_id" uuid NOT NULL, "seq" bigint NOT NULL, "occurred_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL, "actor_type" character varying(16) NOT NULL, "actor_id" character varying(64), "actor_label" character varying(320) NOT NULL, "auth_method" character varying(32) NOT NULL, "action" character varying(64) NOT NULL, "target_type" character varying(40), "target_id" character varying(128), "outcome" "public"."audit_outcome" NOT NULL, "error_code" character varying(40), "client_ip" character varying(64), "user_agent" character varying(512), "request_id" character varying(128), "metadata" jsonb NOT NULL DEFAULT '{}', "prev_hash" character varying(64) NOT NULL, "hash" character varying(64) NOT NULL, "key_id" character varying(32) NOT NULL, CONSTRAINT "PK_481efbe8b0a403efe3f47a6528f" PRIMARY KEY ("id"))`);
    await queryRunner.query(`CREATE INDEX "ix_audit_event_tenant_outcome" ON "audit_event" ("tenant_id", "outcome", "seq") `);
    await queryRunner.query(`CREATE INDEX "ix_audit_event_tenant_target" ON "audit_event" ("tenant_id", "target_type", "target_id", "seq") `);
    await queryRunner.query(`CREATE INDEX "ix_audit_event_tenant_actor" ON "audit_event" ("tenant_id", "actor_id", "seq") `);
    await queryRunner.query(`CREATE INDEX "ix_audit_event_tenant_action" ON "audit_event" ("tenant_id", "action", "seq") `);
    await queryRunner.query(`CREATE INDEX "ix_audit_event_tenant_time" ON "audit_event" ("tenant_id", "occurred_at") `);
    await queryRunner.query(`CREATE UNIQUE INDEX "uq_audit_event_tenant_seq" ON "audit_event" ("tenant_id", "seq") `);
    await queryRunner.query(`CREATE TABLE "audit_chain_head" ("tenant_id" uuid NOT NULL, "last_seq" bigint NOT NULL, "last_hash" character varying(64) NOT NULL, CONSTRAINT "PK_6045a026b2c931fc8e3a62fe85d" PRIMARY KEY ("tenant_id"))`);
    await queryRunner.query(`CREATE TABLE "audit_checkpoint" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "tenant_id" uuid NOT NULL, "last_seq" bigint NOT NULL, "last_hash" character varying(64) NOT NULL, "pruned_before" TIMESTAMP(3) WITH TIME ZONE NOT NULL, "key_id" character varying(32) NOT NULL, "signature" character varying(64) NOT NULL, "created_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_9720e45bb755b61bb1ab7d43839" PRIMARY KEY ("id"))`);
    await queryRunner.query(`CREATE INDEX "ix_audit_checkpoint_tenant_seq" ON "audit_checkpoint" ("tenant_id", "last_seq") `);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "public"."ix_audit_checkpoint_tenant_seq"`);
    await queryRunner.query(`DROP TABLE "audit_checkpoint"`);
    await queryRunner.query(`DROP TABLE "audit_chain_head"`);
    await queryRunner.query(`DROP INDEX "public"."uq_audit_event_tenant_seq"`);
    await queryRunner.query(`DROP INDEX "public"."ix_audit_event_tenant_time"`);
    await queryRunner.query(`DROP INDEX "public"."ix_audit_event_tenant_action"`);
    await queryRunner.query(`DROP INDEX "public"."ix_audit_event_tenant_actor"`);
    await queryRunner.query(`DROP INDEX "public"."ix_audit_event_tenant_target"`);
    await queryRunner.query(`DROP INDEX "public"."ix_audit_event_tenant_outcome"`);
    await queryRunner.query(`DROP TABLE "audit_event"`);
    await queryRunner.query(`DROP TYPE "public"."audit_outcome"`);
  }
}
