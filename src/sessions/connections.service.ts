import { randomUUID } from 'node:crypto';
import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, Not } from 'typeorm';
import { AuditService, type BatchRow } from '../audit/audit.service';
import { type JoinOrigin, type RequestContext } from '../common/context';
import { DomainException, ErrorCode } from '../common/errors';
import { codeName, issueLane } from '../common/metrics/labels';
import { MetricsService } from '../common/metrics/metrics.service';
import { roleAtLeast } from '../common/auth/roles';
import { DISPLAY_TEXT, vendorName } from '../providers/names';
import { ParticipantRole, type ProviderKind } from '../providers/provider-kind';
import { ProviderRegistry } from '../providers/provider-registry';
import { CredentialVault } from '../providers/vault/credential-vault';
import {
  type IssuedJoin,
  type KeptForValidation,
  type PreparedJoin,
  type ResolvedCredential,
  type VideoProvider,
} from '../providers/video-provider';
import { SessionConnection } from './connection.entity';
import { assertMayIssue, assertMayManage } from './session-policy';
import { ConnectionStatus, SessionStatus } from './session-status';
import { SessionsService, type Via } from './sessions.service';
import { type VideoSession } from './video-session.entity';

/** What a listed connection shows (never the Red5 hashes), with the entity's property names. */
const LISTED_COLUMNS = [
  ['id', 'id'],
  ['created_at', 'createdAt'],
  ['updated_at', 'updatedAt'],
  ['tenant_id', 'tenantId'],
  ['session_id', 'sessionId'],
  ['role', 'role'],
  ['identity', 'identity'],
  ['display_name', 'displayName'],
  ['external_id', 'externalId'],
  ['status', 'status'],
  ['expires_at', 'expiresAt'],
  ['revoked_at', 'revokedAt'],
  ['joined_at', 'joinedAt'],
  ['left_at', 'leftAt'],
  ['created_by_type', 'createdByType'],
  ['created_by_id', 'createdById'],
  ['created_by_label', 'createdByLabel'],
]
  .map(([column, property]) => `c.${column} AS "${property}"`)
  .join(', ');
/** Reason of the CONFLICT when the vendor no longer has a session's room. */
export const SESSION_GONE = 'session_gone';
const MAX_DATA_CHARS = 4000;
const MAX_LISTED = 100;

/** What a caller asks for when issuing a join credential in a session. */
export type JoinInput = {
  role?: ParticipantRole | null;
  identity?: string | null;
  displayName?: string | null;
  data?: string | null;
  ttlSeconds?: number | null;
} & VendorJoinBlocks;

/**
 * Vendor option blocks of a join, each under its vendor's block name (`agora`: uid, userAccount,
 * rtm…; `openvidu`: connection properties; `fishjam`: livestream). Only the session vendor's may
 * be given; its adapter checks it (VideoProvider.prepareJoin).
 */
export type VendorJoinBlocks = { [block: string]: unknown };

export { type JoinOrigin } from '../common/context';

export interface IssuedConnection {
  connection: SessionConnection;
  session: VideoSession;
  /** The vendor-shaped credential: returned once, never stored. */
  credential: Record<string, unknown>;
  /** The vendor's non-secret answer (Pexip participant status…). */
  details: Record<string, unknown>;
}

/** Nothing to record: the connection was revoked by another request meanwhile. */
class AlreadyRevoked extends Error {}

/**
 * Join credentials: checked (role policy, TTL cap, names) before the vendor is called, minted or
 * created by the session's adapter, then recorded with their audit event. The credential itself is
 * returned once; for Red5 only hashes are kept, for the round-trip validation.
 */
@Injectable()
export class ConnectionsService {
  private readonly logger = new Logger(ConnectionsService.name);

  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly sessions: SessionsService,
    private readonly vault: CredentialVault,
    private readonly registry: ProviderRegistry,
    private readonly audit: AuditService,
    private readonly metrics: MetricsService,
  ) {}

  /**
   * Issues a join credential in a loaded session (JoinRoom gets the room). The connection row and its
   * `connection.created` event commit together in the tenant's audit batch; if that fails, what
   * the vendor issued is taken back.
   */
  async issueFor(
    ctx: RequestContext,
    session: VideoSession,
    input: JoinInput,
    origin: JoinOrigin,
  ): Promise<IssuedConnection> {
    const role = input.role ?? ParticipantRole.PUBLISHER;
    assertMayIssue(ctx, role);
    const adapter = this.registry.get(session.provider);
    this.assertMayUse(ctx, adapter, this.ownBlock(session.provider, input));
    if (session.status !== SessionStatus.ACTIVE || !session.externalId) {
      throw DomainException.conflict('The session has ended', 'sessionId');
    }
    if (!session.credentialId) {
      throw DomainException.conflict('The credential of this session was deleted', 'sessionId');
    }
    const cred = await this.sessions.credentialOf(ctx, session);
    const ttlSeconds = this.ttl(adapter, cred, input.ttlSeconds);
    const { prepared, displayName } = this.checkJoin(session.provider, input);
    const { identity, options } = prepared;

    let issued: IssuedJoin;
    try {
      issued = await adapter.issueJoin(cred, {
        roomExternalId: session.externalId,
        role,
        identity,
        displayName,
        data: input.data ?? null,
        ttlSeconds,
        options,
      });
    } catch (err) {
      // The vendor no longer knows the room (an OpenVidu session closed when its last
      // participant left, an ephemeral Pexip meeting, a purged Fishjam room): record the end,
      // so the next createSession with the same key makes a new one.
      if (err instanceof DomainException && err.reason === 'status_404') {
        await this.sessions.markEnded(ctx, session, 'vendor:gone', origin.via);
        throw new DomainException(
          ErrorCode.CONFLICT,
          'The session no longer exists at the vendor: create it again',
          { field: 'sessionId', reason: SESSION_GONE },
        );
      }
      throw err;
    }
    const row = this.newRow(ctx, session, role, issued, adapter.keptForValidation(issued), {
      identity: adapter.recordedIdentity(issued, prepared),
      displayName,
    });
    try {
      // The row rides in the statement that writes its batch's events (no round trip of its own).
      await this.audit.insert(ctx, [connectionRow(row)], {
        action: 'connection.created',
        targetType: 'connection',
        targetId: row.id,
        metadata: {
          sessionId: session.id,
          provider: session.provider,
          role,
          identity: row.identity,
          expiresAt: row.expiresAt?.toISOString() ?? null,
          via: origin.via,
          route: origin.route,
        },
      });
      this.metrics.credentialsIssued
        .of(
          adapter.kind.toLowerCase(),
          'join',
          role.toLowerCase(),
          issueLane(ctx.joinLink !== null, origin.via),
          codeName(origin.route),
        )
        .inc();
      return {
        connection: row,
        session,
        credential: issued.credential,
        details: issued.details ?? {},
      };
    } catch (err) {
      await this.undo(adapter, cred, session, issued);
      throw err;
    }
  }

  /** Revokes at the vendor where it can (OpenVidu, LiveKit, Pexip, Fishjam), then records it. */
  async revoke(
    ctx: RequestContext,
    id: string,
    via: Via = 'graphql',
  ): Promise<IssuedConnection['connection']> {
    const conn = await this.get(ctx, id);
    assertMayManage(ctx, conn, 'revoke this credential');
    if (conn.status === ConnectionStatus.REVOKED) return conn;
    const session = await this.sessions.get(ctx, conn.sessionId);
    if (session.credentialId && session.externalId && conn.externalId) {
      const cred = await this.vault.resolve(ctx, session.credentialId, session.provider);
      await this.registry
        .get(session.provider)
        .revokeJoin(cred, session.externalId, conn.externalId);
    }
    const revokedAt = new Date();
    try {
      // The update and its event commit together in the tenant's audit batch.
      await this.audit.commit(
        ctx,
        async (m) => {
          const res = await m.update(
            SessionConnection,
            { id: conn.id, tenantId: ctx.tenantId, status: Not(ConnectionStatus.REVOKED) },
            { status: ConnectionStatus.REVOKED, revokedAt },
          );
          if (!res.affected) throw new AlreadyRevoked();
        },
        () => ({
          action: 'connection.revoked',
          targetType: 'connection',
          targetId: conn.id,
          metadata: { sessionId: session.id, provider: session.provider, reason: 'revoked', via },
        }),
      );
    } catch (err) {
      // A concurrent revoke got there first: it recorded the event.
      if (!(err instanceof AlreadyRevoked)) throw err;
    }
    return Object.assign(conn, { status: ConnectionStatus.REVOKED, revokedAt });
  }

  async get(ctx: Pick<RequestContext, 'tenantId'>, id: string): Promise<SessionConnection> {
    const row = await this.ds
      .getRepository(SessionConnection)
      .findOne({ where: { id, tenantId: ctx.tenantId } });
    if (!row) throw DomainException.notFound('Connection');
    return row;
  }

  /**
   * The connections of several sessions in one query — the newest `first` (1..100) of each —
   * in the order of `sessionIds`. Serves a page of sessions with their connections.
   */
  async listForSessions(
    ctx: Pick<RequestContext, 'tenantId'>,
    sessionIds: readonly string[],
    first = MAX_LISTED,
  ): Promise<SessionConnection[][]> {
    const take = Math.min(MAX_LISTED, Math.max(1, Math.trunc(first)));
    const rows = await this.ds.query<Array<Record<string, unknown>>>(
      `SELECT ${LISTED_COLUMNS} FROM (
         SELECT c.*, row_number() OVER (PARTITION BY c.session_id
                                        ORDER BY c.created_at DESC, c.id DESC) AS rn
           FROM session_connection c
          WHERE c.tenant_id = $1 AND c.session_id = ANY($2::uuid[])
       ) c
       WHERE c.rn <= $3
       ORDER BY c.created_at DESC, c.id DESC`,
      [ctx.tenantId, [...sessionIds], take],
    );
    const bySession = new Map<string, SessionConnection[]>(sessionIds.map((id) => [id, []]));
    for (const row of rows) {
      const c = Object.assign(new SessionConnection(), row);
      bySession.get(c.sessionId)?.push(c);
    }
    return sessionIds.map((id) => bySession.get(id) ?? []);
  }

  private ttl(adapter: VideoProvider, cred: ResolvedCredential, requested?: number | null): number {
    const { max, fallback } = adapter.joinTtl(cred);
    const ttl = requested ?? fallback;
    if (!Number.isInteger(ttl) || ttl < 1 || ttl > max) {
      throw DomainException.badInput(
        'ttlSeconds',
        `ttlSeconds must be a whole number from 1 to ${max} for ${cred.kind}`,
      );
    }
    return ttl;
  }

  /**
   * Checks what a join asks for that does not depend on the session's credential (names, data,
   * the vendor's own rules for identity and options) — so a route that creates the session first
   * can refuse bad input before that.
   */
  checkJoin(
    kind: ProviderKind,
    input: JoinInput,
  ): { prepared: PreparedJoin; displayName: string | null } {
    const displayName =
      input.displayName != null ? vendorName(input.displayName, 'displayName', DISPLAY_TEXT) : null;
    if (input.data != null && input.data.length > MAX_DATA_CHARS) {
      throw DomainException.badInput('data', `data must be at most ${MAX_DATA_CHARS} characters`);
    }
    const prepared = this.registry.get(kind).prepareJoin({
      role: input.role ?? ParticipantRole.PUBLISHER,
      identity: input.identity ?? null,
      options: this.vendorOptions(kind, input),
    });
    return { prepared, displayName };
  }

  /** Whether a SUBSCRIBER credential of this join can only receive (see VideoProvider.receiveOnly). */
  receiveOnly(kind: ProviderKind, input: JoinInput): boolean {
    return this.registry.get(kind).receiveOnly(this.vendorOptions(kind, input) ?? {});
  }

  /** The session vendor's option block of a join; a block for another vendor is refused. */
  private vendorOptions(kind: ProviderKind, input: JoinInput): Record<string, unknown> | null {
    const own = this.registry.blockOf(kind);
    for (const vendor of this.registry.all()) {
      if (vendor.block !== own && input[vendor.block] != null) {
        throw DomainException.badInput(
          vendor.block,
          `${vendor.block} options do not apply to a ${kind} session`,
        );
      }
    }
    return this.ownBlock(kind, input);
  }

  /** The option block a join gives for this vendor, unchecked (null: none). */
  private ownBlock(kind: ProviderKind, input: JoinInput): Record<string, unknown> | null {
    const block = input[this.registry.blockOf(kind)];
    return block != null ? (block as Record<string, unknown>) : null;
  }

  /** Refuses join options that need a higher tenant role than the caller's (an IP camera). */
  private assertMayUse(
    ctx: RequestContext,
    adapter: VideoProvider,
    options: Record<string, unknown> | null,
  ): void {
    const needed = adapter.requiredRole(options);
    if (needed && !roleAtLeast(ctx.role, needed.role))
      throw DomainException.forbidden(needed.message, needed.reason);
  }

  private newRow(
    ctx: RequestContext,
    session: VideoSession,
    role: ParticipantRole,
    issued: IssuedJoin,
    kept: KeptForValidation | null,
    who: { identity: string; displayName: string | null },
  ): SessionConnection {
    const now = new Date();
    // Every column set here, so a plain instance: no entity transform on the hot path.
    return Object.assign(new SessionConnection(), {
      id: randomUUID(),
      createdAt: now,
      updatedAt: now,
      tenantId: ctx.tenantId,
      sessionId: session.id,
      role,
      identity: who.identity,
      displayName: who.displayName,
      externalId: issued.externalId,
      status: ConnectionStatus.ISSUED,
      expiresAt: issued.expiresAt,
      revokedAt: null,
      joinedAt: null,
      leftAt: null,
      tokenHash: kept?.tokenHash ?? null,
      username: kept?.username ?? null,
      passwordHash: kept?.passwordHash ?? null,
      createdByType: ctx.actorType,
      createdById: ctx.actorId,
      createdByLabel: ctx.actorLabel.slice(0, 320),
    } satisfies Partial<SessionConnection>);
  }

  /** The vendor issued something we could not record: take it back so it cannot be used. */
  private async undo(
    adapter: VideoProvider,
    cred: ResolvedCredential,
    session: VideoSession,
    issued: IssuedJoin,
  ): Promise<void> {
    if (!issued.externalId || !session.externalId) return;
    try {
      await adapter.revokeJoin(cred, session.externalId, issued.externalId);
    } catch (err) {
      this.logger.warn(
        { err, sessionId: session.id, provider: session.provider },
        'could not take back a join credential that was not recorded',
      );
    }
  }
}

const CONNECTION_COLUMNS = [
  'id',
  'created_at',
  'updated_at',
  'tenant_id',
  'session_id',
  'role',
  'identity',
  'display_name',
  'external_id',
  'status',
  'expires_at',
  'token_hash',
  'username',
  'password_hash',
  'created_by_type',
  'created_by_id',
  'created_by_label',
] as const;

/** The connection row as a batch row: every value is known here (no RETURNING, no re-read). */
function connectionRow(c: SessionConnection): BatchRow {
  return {
    table: 'session_connection',
    columns: CONNECTION_COLUMNS,
    values: [
      c.id,
      c.createdAt,
      c.updatedAt,
      c.tenantId,
      c.sessionId,
      c.role,
      c.identity,
      c.displayName,
      c.externalId,
      c.status,
      c.expiresAt,
      c.tokenHash,
      c.username,
      c.passwordHash,
      c.createdByType,
      c.createdById,
      c.createdByLabel,
    ],
  };
}
