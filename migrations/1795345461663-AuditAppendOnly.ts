import { type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * Hand-written: audit_event is append-only. UPDATE, DELETE and TRUNCATE are refused by trigger;
 * the retention job alone may DELETE, by setting roomkey.audit_prune = 'on' for its transaction
 * (and it leaves a signed checkpoint). Entity diffs do not see triggers, so the drift check
 * cannot generate this.
 */
export class AuditAppendOnly1795345461663 implements MigrationInterface {
  name = 'AuditAppendOnly1795345461663';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE FUNCTION audit_event_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP = 'DELETE' AND current_setting('roomkey.audit_prune', true) = 'on' THEN
          RETURN OLD;
        END IF;
        RAISE EXCEPTION 'audit_event is append-only: % refused', TG_OP
          USING ERRCODE = 'insufficient_privilege';
      END
      $$`);
    await queryRunner.query(
      `CREATE TRIGGER audit_event_append_only BEFORE UPDATE OR DELETE ON audit_event FOR EACH ROW EXECUTE FUNCTION audit_event_append_only()`,
    );
    await queryRunner.query(
      `CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON audit_event FOR EACH STATEMENT EXECUTE FUNCTION audit_event_append_only()`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TRIGGER audit_event_no_truncate ON audit_event`);
    await queryRunner.query(`DROP TRIGGER audit_event_append_only ON audit_event`);
    await queryRunner.query(`DROP FUNCTION audit_event_append_only()`);
  }
}
