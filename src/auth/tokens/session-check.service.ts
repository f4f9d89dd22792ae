import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { type MemberRole } from '../../common/auth/roles';

export type SessionCheck =
  | { ok: true; role: MemberRole; tenantSlug: string; email: string; isPlatformAdmin: boolean }
  | { ok: false; reason: 'not_a_member' | 'session_revoked'; email: string | null };

const TTL_MS = 30_000;
const MAX_ENTRIES = 10_000;

/**
 * Is this user still a member of this tenant, and is this session (refresh family) still alive?
 * One indexed query, cached 30 s per (user, tenant, session): a removed member or a signed-out
 * session stops working within that time while bearer calls stay cheap.
 */
@Injectable()
export class SessionCheckService {
  private readonly cache = new Map<string, { at: number; value: SessionCheck }>();

  constructor(@InjectDataSource() private readonly ds: DataSource) {}

  /** Bumped by every forget: a check that started before it does not cache its answer. */
  private generation = 0;

  /** Drops what is remembered of a session (logout): this instance checks it afresh at once. */
  forget(sessionId: string): void {
    this.generation++;
    for (const key of this.cache.keys()) if (key.endsWith(`|${sessionId}`)) this.cache.delete(key);
  }

  async check(userId: string, tenantId: string, sessionId: string): Promise<SessionCheck> {
    const key = `${userId}|${tenantId}|${sessionId}`;
    const hit = this.cache.get(key);
    if (hit && Date.now() - hit.at < TTL_MS) return hit.value;
    const generation = this.generation;
    const [row] = await this.ds.query<
      Array<{
        email: string;
        is_platform_admin: boolean;
        role: MemberRole | null;
        slug: string | null;
        revoked: boolean;
      }>
    >(
      `SELECT u.email, u.is_platform_admin, m.role, t.slug,
              EXISTS (SELECT 1 FROM refresh_token r WHERE r.family_id = $3 AND r.revoked_at IS NOT NULL) AS revoked
         FROM app_user u
         LEFT JOIN membership m ON m.user_id = u.id AND m.tenant_id = $2
         LEFT JOIN tenant t ON t.id = m.tenant_id
        WHERE u.id = $1`,
      [userId, tenantId, sessionId],
    );
    let value: SessionCheck;
    if (!row?.role || !row.slug)
      value = { ok: false, reason: 'not_a_member', email: row?.email ?? null };
    else if (row.revoked) value = { ok: false, reason: 'session_revoked', email: row.email };
    else
      value = {
        ok: true,
        role: row.role,
        tenantSlug: row.slug,
        email: row.email,
        isPlatformAdmin: row.is_platform_admin,
      };
    if (generation !== this.generation) return value; // a logout ran meanwhile: do not keep it
    if (this.cache.size >= MAX_ENTRIES) this.cache.clear();
    this.cache.set(key, { at: Date.now(), value });
    return value;
  }

  /** Drops cached answers (tests and explicit revocations on this instance). */
  invalidate(): void {
    this.cache.clear();
  }
}
