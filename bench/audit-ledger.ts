import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from 'pg';

/** Last event per audit chain (chain id -> seq). */
export type Position = Map<string, bigint>;

/** Events appended between two positions. */
export interface Tally {
  /** The bench tenant's chain, by action. */
  byAction: Map<string, number>;
  /** Every other chain (platform, other tenants); null where the ledger cannot see them. */
  otherChains: number | null;
}

/** Counts what a scenario appended to the audit log. */
export interface AuditLedger {
  readonly how: string;
  /** Waits until the log stops growing (answers may be sent before their event commits). */
  settle(): Promise<Position>;
  tally(from: Position, to: Position): Promise<Tally>;
  close(): Promise<void>;
}

const SETTLE_POLL_MS = 300;
const SETTLE_MAX_MS = 60_000;

/** Polls `read` until two readings in a row agree. */
async function settleOn<T>(read: () => Promise<{ key: string; value: T }>): Promise<T> {
  const deadline = Date.now() + SETTLE_MAX_MS;
  let prev = await read();
  for (;;) {
    await sleep(SETTLE_POLL_MS);
    const next = await read();
    if (next.key === prev.key) return next.value;
    if (Date.now() > deadline)
      throw new Error(`the audit log was still growing after ${SETTLE_MAX_MS / 1000} s`);
    prev = next;
  }
}

const keyOf = (p: Position): string =>
  [...p.entries()]
    .sort((a, b) => a[0].localeCompare(b[0]))
    .map(([c, s]) => `${c}:${s}`)
    .join(',');

/** PostgreSQL: plain SQL on `audit_event`, every chain (the bench database holds nothing else). */
export async function sqlLedger(url: string, tenantSlug: string): Promise<AuditLedger> {
  const db = new Client({ connectionString: url });
  await db.connect();
  const rows = await db.query<{ id: string }>('SELECT id::text FROM tenant WHERE slug = $1', [
    tenantSlug,
  ]);
  const tenantId = rows.rows[0]?.id;
  if (!tenantId) throw new Error(`no tenant "${tenantSlug}" in the bench database`);
  const position = async (): Promise<Position> => {
    const r = await db.query<{ chain: string; seq: string }>(
      'SELECT tenant_id::text AS chain, max(seq)::text AS seq FROM audit_event GROUP BY tenant_id',
    );
    return new Map(r.rows.map((x) => [x.chain, BigInt(x.seq)]));
  };
  return {
    how: 'SQL on audit_event (seq ranges per chain)',
    settle: () =>
      settleOn(async () => {
        const p = await position();
        return { key: keyOf(p), value: p };
      }),
    async tally(from, to) {
      const byAction = new Map<string, number>();
      let otherChains = 0;
      for (const [chain, last] of to) {
        const first = from.get(chain) ?? 0n;
        if (last <= first) continue;
        const r = await db.query<{ action: string; n: number }>(
          `SELECT action, count(*)::int AS n FROM audit_event
            WHERE tenant_id = $1 AND seq > $2 AND seq <= $3 GROUP BY action`,
          [chain, first.toString(), last.toString()],
        );
        for (const { action, n } of r.rows) {
          if (chain === tenantId) byAction.set(action, (byAction.get(action) ?? 0) + n);
          else otherChains += n;
        }
      }
      return { byAction, otherChains };
    },
    close: () => db.end(),
  };
}

export type Gql = <T>(query: string, variables?: Record<string, unknown>) => Promise<T>;

interface EventsPage {
  auditEvents: {
    nodes: Array<{ seq: string; action: string; actorId: string | null }>;
    pageInfo: { hasNextPage: boolean; endCursor: string | null };
  };
}

const PAGE = `query ($after: String) {
  auditEvents(first: 100, after: $after) {
    nodes { seq action actorId } pageInfo { hasNextPage endCursor }
  }
}`;

/**
 * Embedded PGlite lives inside the server process, so the tenant's chain is read the way an
 * administrator would: `auditEvents`, newest first, through an API key of its own (`auditorId`).
 * Whatever that key appends by reading is left out. Other chains are not visible here.
 */
export function graphqlLedger(gql: Gql, auditorId: string): AuditLedger {
  const TENANT = 'tenant';
  const newest = async (): Promise<{ key: string; value: Position }> => {
    const { auditEvents } = await gql<EventsPage>(PAGE);
    const nodes = auditEvents.nodes;
    const head = nodes.length ? BigInt(nodes[0].seq) : 0n;
    const others = nodes.find((n) => n.actorId !== auditorId);
    return { key: others?.seq ?? 'none', value: new Map([[TENANT, head]]) };
  };
  return {
    how: 'GraphQL auditEvents paged as an admin API key (tenant chain only)',
    settle: () => settleOn(newest),
    async tally(from, to) {
      const first = from.get(TENANT) ?? 0n;
      const last = to.get(TENANT) ?? 0n;
      const byAction = new Map<string, number>();
      let after: string | null = null;
      for (;;) {
        const { auditEvents }: EventsPage = await gql<EventsPage>(PAGE, { after });
        for (const n of auditEvents.nodes) {
          const seq = BigInt(n.seq);
          if (seq <= first) return { byAction, otherChains: null };
          if (seq > last || n.actorId === auditorId) continue;
          byAction.set(n.action, (byAction.get(n.action) ?? 0) + 1);
        }
        if (!auditEvents.pageInfo.hasNextPage) return { byAction, otherChains: null };
        after = auditEvents.pageInfo.endCursor;
      }
    },
    close: () => Promise.resolve(),
  };
}
