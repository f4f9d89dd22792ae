import { Injectable } from '@nestjs/common';
import { type EntityManager } from 'typeorm';
import { type BusCache, Caches } from '../common/cache';
import { SessionStatus } from './session-status';
import { VideoSession } from './video-session.entity';

/** Each caller gets its own object: callers mark theirs ended, or key WeakMaps on it. */
const copy = (s: VideoSession): VideoSession => Object.assign(new VideoSession(), s);

/**
 * Open (ACTIVE) sessions, by id, by customSessionId and by vendor id, each key starting with the
 * tenant. Only ACTIVE rows are kept, and a session leaves every instance's cache when it ends
 * (`ended`), when its credential changes or is deleted, or when its tenant changes.
 */
@Injectable()
export class SessionCache {
  private readonly cache: BusCache<VideoSession>;

  constructor(private readonly caches: Caches) {
    this.cache = caches.create<VideoSession>((lru, e) => {
      if (e.kind === 'session') lru.deleteWhere((s) => s.id === e.id);
      if (e.kind === 'credential') lru.deleteWhere((s) => s.credentialId === e.id);
      if (e.kind === 'tenant') lru.deleteWhere((s) => s.tenantId === e.id);
    });
  }

  byId(tenantId: string, id: string): string {
    return `i|${tenantId}|${id}`;
  }

  byCustomId(tenantId: string, credentialId: string, customId: string): string {
    return `k|${tenantId}|${credentialId}|${customId}`;
  }

  byExternalId(tenantId: string, credentialId: string, externalId: string): string {
    return `x|${tenantId}|${credentialId}|${externalId}`;
  }

  /** The cached session under `key`, or `load()`'s row (kept when it is ACTIVE). */
  async get(key: string, load: () => Promise<VideoSession | null>): Promise<VideoSession | null> {
    const hit = this.cache.get(key);
    if (hit) return copy(hit);
    const epoch = this.cache.epoch;
    const row = await load();
    if (row?.status === SessionStatus.ACTIVE) this.cache.fill(key, copy(row), epoch);
    return row;
  }

  /** Publishes an end inside the transaction that records it. */
  ended(m: EntityManager, session: Pick<VideoSession, 'tenantId' | 'id'>): Promise<void> {
    return this.caches.publish(m, { kind: 'session', tenantId: session.tenantId, id: session.id });
  }
}
