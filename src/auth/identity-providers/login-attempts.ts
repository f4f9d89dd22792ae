import { createHash } from 'node:crypto';
import { type DataSource, type EntityManager } from 'typeorm';

/** Lookup keys are hashes: the raw state / request id never sits in the database. */
export const lookupKey = (...parts: string[]): string =>
  createHash('sha256').update(parts.join('\0')).digest('hex');

/**
 * Short-lived, single-use server-side records (OIDC state, SAML request ids, seen assertion ids),
 * shared by every instance through the database.
 */
export class LoginAttempts {
  constructor(private readonly ds: DataSource) {}

  async put(
    m: EntityManager | null,
    tenantId: string,
    kind: string,
    lookup: string,
    data: Record<string, string>,
    ttlMs: number,
  ): Promise<boolean> {
    const runner = m ?? this.ds;
    const rows = await runner.query<Array<{ id: string }>>(
      `INSERT INTO login_attempt (tenant_id, kind, lookup, data, expires_at) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (lookup) DO NOTHING RETURNING id`,
      [tenantId, kind, lookup, JSON.stringify(data), new Date(Date.now() + ttlMs)],
    );
    return rows.length === 1;
  }

  /** Marks the attempt used and returns its data, once; null if unknown, used, expired or foreign. */
  async take(
    tenantId: string,
    kind: string,
    lookup: string,
  ): Promise<Record<string, string> | null> {
    const [rows] = await this.ds.query<[Array<{ data: Record<string, string> }>, number]>(
      `UPDATE login_attempt SET used_at = now()
        WHERE lookup = $1 AND tenant_id = $2 AND kind = $3 AND used_at IS NULL AND expires_at > now()
        RETURNING data`,
      [lookup, tenantId, kind],
    );
    return rows[0]?.data ?? null;
  }

  async peek(
    tenantId: string,
    kind: string,
    lookup: string,
  ): Promise<Record<string, string> | null> {
    const rows = await this.ds.query<Array<{ data: Record<string, string> }>>(
      `SELECT data FROM login_attempt
        WHERE lookup = $1 AND tenant_id = $2 AND kind = $3 AND used_at IS NULL AND expires_at > now()`,
      [lookup, tenantId, kind],
    );
    return rows[0]?.data ?? null;
  }

  /** Housekeeping: forget attempts that expired more than a day ago. */
  async purge(): Promise<void> {
    await this.ds.query(`DELETE FROM login_attempt WHERE expires_at < now() - interval '1 day'`);
  }
}
