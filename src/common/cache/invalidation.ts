/**
 * What changed, as the caches need to hear it. Ids only: never a secret, a slug at most.
 *
 * | kind         | published when                                         | caches that drop entries        |
 * |--------------|--------------------------------------------------------|---------------------------------|
 * | `api_key`    | a key is revoked                                        | principals of that key          |
 * | `tenant`     | a tenant is created or changed (slug, CORS origins)     | everything of that tenant/slug  |
 * | `credential` | a credential is created, updated, made default, deleted | that credential, the tenant's defaults, its sessions |
 * | `session`    | a session ends (endSession, webhook, vendor gone)       | that session                    |
 * | `all`        | the listener (re)connects, or a message is unreadable   | everything                      |
 */
export type Invalidation =
  | { kind: 'api_key'; id: string }
  | { kind: 'tenant'; id: string; slug: string }
  | { kind: 'credential'; tenantId: string; id: string }
  | { kind: 'session'; tenantId: string; id: string }
  | { kind: 'all' };

export const EVERYTHING: Invalidation = { kind: 'all' };

/** One message on the bus: the instance that sent it and what changed. */
export interface BusMessage {
  origin: string;
  events: Invalidation[];
}

const ID = /^[A-Za-z0-9_.:-]{1,200}$/;
const isId = (v: unknown): v is string => typeof v === 'string' && ID.test(v);

/** One event as received; null when its shape is not one of ours. */
function parseEvent(raw: unknown): Invalidation | null {
  if (typeof raw !== 'object' || raw === null) return null;
  const e = raw as Record<string, unknown>;
  switch (e.kind) {
    case 'api_key':
      return isId(e.id) ? { kind: 'api_key', id: e.id } : null;
    case 'tenant':
      return isId(e.id) && isId(e.slug) ? { kind: 'tenant', id: e.id, slug: e.slug } : null;
    case 'credential':
    case 'session':
      return isId(e.id) && isId(e.tenantId)
        ? { kind: e.kind, tenantId: e.tenantId, id: e.id }
        : null;
    case 'all':
      return EVERYTHING;
    default:
      return null;
  }
}

/**
 * Reads a bus message. Anything unreadable — a newer instance's event kind during a rolling
 * deploy, a truncated payload — becomes "drop everything": a cache that cannot tell what changed
 * must assume everything did.
 */
export function parseMessage(payload: string): BusMessage {
  let raw: unknown;
  try {
    raw = JSON.parse(payload);
  } catch {
    return { origin: '', events: [EVERYTHING] };
  }
  const m = raw as { o?: unknown; e?: unknown } | null;
  const origin = typeof m?.o === 'string' ? m.o : '';
  if (!Array.isArray(m?.e)) return { origin, events: [EVERYTHING] };
  const events: Invalidation[] = [];
  for (const item of m.e) {
    const e = parseEvent(item);
    if (!e) return { origin, events: [EVERYTHING] };
    events.push(e);
  }
  return { origin, events };
}

/** PostgreSQL's NOTIFY payload limit is 8000 bytes; past a safe margin send `all` instead. */
const MAX_PAYLOAD = 7000;

export function formatMessage(origin: string, events: Invalidation[]): string {
  const payload = JSON.stringify({ o: origin, e: events });
  return payload.length <= MAX_PAYLOAD ? payload : JSON.stringify({ o: origin, e: [EVERYTHING] });
}
