import { setTimeout as sleep } from 'node:timers/promises';
import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import { APP_CONFIG, type AppConfig } from '../common/config';
import { type RequestContext, type Via } from '../common/context';
import { DomainException, isUniqueViolation } from '../common/errors';
import { ProviderRegistry } from '../providers/provider-registry';
import { type ResolvedCredential, type RoomRequest } from '../providers/video-provider';
import { SessionCache } from './session-cache';
import { SessionStatus } from './session-status';
import { VideoSession } from './video-session.entity';

export { type Via } from '../common/context';

const POLL_MS = 50;

/** The claim row was taken over (as stale) while this request's vendor call was in flight. */
class ClaimLost extends Error {}

/**
 * Creates sessions at the vendor and records them, exactly once per customSessionId.
 *
 * The key is claimed by inserting a CREATING row (a partial unique index allows one open row per
 * key) before the vendor is called, outside any transaction — PGlite runs one transaction at a
 * time, and none should wait on a vendor. Callers from other instances find the claim and wait
 * for it; a claim older than any vendor call can take belongs to a process that died and is taken
 * over. A failed vendor call gives the key back, so nothing half-created remains.
 */
@Injectable()
export class SessionCreator {
  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly registry: ProviderRegistry,
    private readonly audit: AuditService,
    private readonly cache: SessionCache,
  ) {}

  /** Get-or-create under a customSessionId: the open session, or a claim and a vendor call. */
  async createOnce(
    ctx: RequestContext,
    cred: ResolvedCredential,
    room: RoomRequest,
    customId: string,
    via: Via,
  ): Promise<VideoSession> {
    // A little longer than a claim can live, so a caller outlasts an abandoned claim and takes over.
    const deadline = Date.now() + this.claimWaitMs() + 1000;
    while (Date.now() < deadline) {
      const open = await this.openByKey(ctx, cred, customId);
      if (open) return open;
      const claim = await this.claim(ctx, cred, room, customId);
      if (claim) return this.createAtVendor(ctx, cred, room, via, claim);
      await sleep(POLL_MS); // another request holds the claim: wait for it to finish or fail
    }
    throw DomainException.conflict(
      'The session is still being created by another request: try again',
      'customSessionId',
    );
  }

  /** The open session of a credential with this vendor id (cached: SessionCache). */
  openByExternalId(
    ctx: Pick<RequestContext, 'tenantId'>,
    credentialId: string,
    externalId: string,
  ): Promise<VideoSession | null> {
    return this.cache.get(this.cache.byExternalId(ctx.tenantId, credentialId, externalId), () =>
      this.ds.getRepository(VideoSession).findOne({
        where: { tenantId: ctx.tenantId, credentialId, externalId, status: SessionStatus.ACTIVE },
      }),
    );
  }

  /** The open session of a credential with this customSessionId (cached: SessionCache). */
  openByKey(
    ctx: RequestContext,
    cred: ResolvedCredential,
    customId: string,
  ): Promise<VideoSession | null> {
    return this.cache.get(this.cache.byCustomId(ctx.tenantId, cred.id, customId), () =>
      this.ds.getRepository(VideoSession).findOne({
        where: {
          tenantId: ctx.tenantId,
          credentialId: cred.id,
          customId,
          status: SessionStatus.ACTIVE,
        },
      }),
    );
  }

  /** Inserts the CREATING row for a key; null when another open row holds it. */
  private async claim(
    ctx: RequestContext,
    cred: ResolvedCredential,
    room: RoomRequest,
    customId: string,
  ): Promise<VideoSession | null> {
    const repo = this.ds.getRepository(VideoSession);
    // A claim older than the longest vendor call belongs to a process that died mid-call. Age is
    // measured on the database clock, the one that stamped created_at.
    await repo
      .createQueryBuilder()
      .delete()
      .where('tenant_id = :t AND credential_id = :c AND custom_id = :k AND status = :s', {
        t: ctx.tenantId,
        c: cred.id,
        k: customId,
        s: SessionStatus.CREATING,
      })
      .andWhere(`created_at < now() - make_interval(secs => :age)`, {
        age: this.claimWaitMs() / 1000,
      })
      .execute();
    try {
      return await repo.save(this.newRow(ctx, cred, room, SessionStatus.CREATING));
    } catch (err) {
      if (isUniqueViolation(err)) return null;
      throw err;
    }
  }

  /**
   * Calls the vendor, then records the session — activating the claim, if any — with its audit
   * event in one transaction. A failure at either step leaves no row behind (and a vendor room
   * made only for this call is closed again).
   */
  async createAtVendor(
    ctx: RequestContext,
    cred: ResolvedCredential,
    room: RoomRequest,
    via: Via,
    claim: VideoSession | null,
  ): Promise<VideoSession> {
    const adapter = this.registry.get(cred.kind);
    let created;
    try {
      created = await adapter.createRoom(cred, room);
    } catch (err) {
      await this.dropClaim(claim);
      throw err;
    }
    const closeOurs = (): Promise<void> =>
      created.details.existing === true
        ? Promise.resolve()
        : adapter.closeRoom(cred, created.externalId).catch(() => undefined);
    try {
      return await this.record(ctx, cred, room, via, claim, created);
    } catch (err) {
      await this.dropClaim(claim);
      if (err instanceof ClaimLost || isUniqueViolation(err)) {
        return this.afterLostKey(
          ctx,
          cred,
          room,
          via,
          created,
          err instanceof ClaimLost,
          closeOurs,
        );
      }
      await closeOurs();
      throw err;
    }
  }

  /**
   * The room exists at the vendor but this request no longer holds its key: another open session
   * holds that room or key (the answer), or — the claim having been taken over as stale — nobody
   * does and the session is recorded afresh. A room the vendor made only for this request (its id
   * is not the key) is closed again when it is not kept.
   */
  private async afterLostKey(
    ctx: RequestContext,
    cred: ResolvedCredential,
    room: RoomRequest,
    via: Via,
    created: { externalId: string; details: Record<string, unknown> },
    claimLost: boolean,
    closeOurs: () => Promise<void>,
  ): Promise<VideoSession> {
    const ownRoom = created.externalId !== room.customId;
    const existing =
      (await this.openByExternalId(ctx, cred.id, created.externalId)) ??
      (room.customId ? await this.openByKey(ctx, cred, room.customId) : null);
    if (existing) {
      if (ownRoom && existing.externalId !== created.externalId) await closeOurs();
      return existing;
    }
    if (claimLost) {
      try {
        return await this.record(ctx, cred, room, via, null, created);
      } catch (err) {
        if (!isUniqueViolation(err)) throw err;
      }
    }
    if (ownRoom) await closeOurs();
    throw DomainException.conflict(
      'The session is being created by another request: try again',
      'customSessionId',
    );
  }

  /**
   * The session row (inserted, or the claim turned ACTIVE) and its audit event, together: the row
   * rides in the tenant's audit batch. The work only writes through `m` and builds its row anew,
   * so a batch retried job by job repeats it cleanly.
   */
  private async record(
    ctx: RequestContext,
    cred: ResolvedCredential,
    room: RoomRequest,
    via: Via,
    claim: VideoSession | null,
    created: { externalId: string; details: Record<string, unknown> },
  ): Promise<VideoSession> {
    const values = {
      status: SessionStatus.ACTIVE,
      externalId: created.externalId,
      details: created.details,
    };
    const saved = await this.audit.commit(
      ctx,
      async (m) => {
        if (!claim) {
          return m.save(Object.assign(this.newRow(ctx, cred, room, SessionStatus.ACTIVE), values));
        }
        const res = await m.update(
          VideoSession,
          { id: claim.id, status: SessionStatus.CREATING },
          // TypeORM's deep-partial type cannot express a jsonb Record.
          { ...values, details: values.details as never },
        );
        if (!res.affected) throw new ClaimLost();
        return Object.assign(claim, values);
      },
      (s) => ({
        action: 'session.created',
        targetType: 'video_session',
        targetId: s.id,
        metadata: {
          provider: cred.kind,
          externalId: created.externalId,
          customSessionId: room.customId ?? null,
          via,
        },
      }),
    );
    return saved;
  }

  /** Gives a key back after a failure; never hides the failure itself. */
  private async dropClaim(claim: VideoSession | null): Promise<void> {
    if (!claim) return;
    await this.ds
      .getRepository(VideoSession)
      .delete({ id: claim.id, status: SessionStatus.CREATING })
      .catch(() => undefined);
  }

  private newRow(
    ctx: RequestContext,
    cred: ResolvedCredential,
    room: RoomRequest,
    status: SessionStatus,
  ): VideoSession {
    return this.ds.getRepository(VideoSession).create({
      tenantId: ctx.tenantId,
      provider: cred.kind,
      credentialId: cred.id,
      externalId: null,
      customId: room.customId ?? null,
      name: room.name ?? null,
      status,
      options: room.options ?? {},
      details: {},
      createdByType: ctx.actorType,
      createdById: ctx.actorId,
      createdByLabel: ctx.actorLabel.slice(0, 320),
      endedAt: null,
      endReason: null,
    });
  }

  /**
   * How long a claim may be in flight before it counts as abandoned (its process died), and how
   * long an identical call waits for it: a vendor create makes at most two timed attempts (Pexip's
   * token exchange and meeting, or one call and its retry), each bounded by the timeout; add a
   * generous margin for the database work around them.
   */
  private claimWaitMs(): number {
    return this.config.providers.timeoutMs * 2 + 5000;
  }
}
