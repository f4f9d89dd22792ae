import { type AuditColumn, type AuditFilter, auditRowsQuery, auditWhere } from './audit';

/** The audit helpers' SQL building alone; the e2e specs run the queries on real databases. */
describe('audit test helpers', () => {
  describe('auditWhere', () => {
    it('should build no WHERE clause and no parameters when the filter is empty', () => {
      expect(auditWhere({})).toEqual({ where: '', params: [] });
    });

    it('should turn every field into one numbered condition, joined by AND, in the given order', () => {
      const filter: AuditFilter = {
        tenantId: 'tenant-1',
        requestId: 'req-1',
        action: 'session.created',
        actorId: 'actor-1',
        targetId: 'target-1',
        afterSeq: 7,
      };
      expect(auditWhere(filter)).toEqual({
        where:
          ' WHERE tenant_id = $1 AND request_id = $2 AND action = $3 AND actor_id = $4' +
          ' AND target_id = $5 AND seq > $6',
        params: ['tenant-1', 'req-1', 'session.created', 'actor-1', 'target-1', 7],
      });
    });

    it('should keep a hostile value out of the SQL text when it is passed as a filter value', () => {
      const hostile = "x' OR '1'='1'; DROP TABLE audit_event; --";
      const { where, params } = auditWhere({ action: hostile, tenantId: 't' });
      expect(where).toBe(' WHERE action = $1 AND tenant_id = $2');
      expect(where).not.toContain(hostile);
      expect(params).toEqual([hostile, 't']);
    });

    it('should keep 0 as a seq mark when afterSeq is 0', () => {
      expect(auditWhere({ tenantId: 't', afterSeq: 0 })).toEqual({
        where: ' WHERE tenant_id = $1 AND seq > $2',
        params: ['t', 0],
      });
    });

    it.each([
      ['undefined', undefined],
      ['null', null],
    ])('should refuse a present field whose value is %s instead of widening the query', (_l, v) => {
      const filter = { tenantId: v } as unknown as AuditFilter;
      expect(() => auditWhere(filter)).toThrow(/tenantId is (undefined|null)/);
    });

    it.each(['tenant', 'tenant_id', 'constructor', 'toString', '__proto__'])(
      'should refuse the unknown filter field %s',
      (key) => {
        const filter = JSON.parse(`{"${key}": "x"}`) as AuditFilter;
        expect(() => auditWhere(filter)).toThrow(`unknown audit filter field: ${key}`);
      },
    );
  });

  describe('auditRowsQuery', () => {
    it('should select every column of audit_event in tenant and chain order when no columns are named', () => {
      const { sql, params } = auditRowsQuery({ requestId: 'r' });
      expect(sql).toBe(
        'SELECT id, tenant_id, seq, occurred_at, actor_type, actor_id, actor_label, auth_method,' +
          ' action, target_type, target_id, outcome, error_code, client_ip, user_agent, request_id,' +
          ' metadata, prev_hash, hash, key_id FROM audit_event WHERE request_id = $1' +
          ' ORDER BY tenant_id, seq',
      );
      expect(params).toEqual(['r']);
    });

    it('should select only the named columns when columns are given', () => {
      expect(auditRowsQuery({}, ['seq', 'hash']).sql).toBe(
        'SELECT seq, hash FROM audit_event ORDER BY tenant_id, seq',
      );
    });

    it('should refuse a column that audit_event does not have', () => {
      const columns = ['seq', 'seq; DROP TABLE audit_event'] as unknown as AuditColumn[];
      expect(() => auditRowsQuery({}, columns)).toThrow(/unknown audit_event column/);
    });

    it('should refuse an empty column list', () => {
      expect(() => auditRowsQuery({}, [])).toThrow(/at least one column/);
    });
  });
});
