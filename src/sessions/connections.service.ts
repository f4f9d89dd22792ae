import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, Not } from 'typeorm';
import { AuditService, type BatchRow } from '../audit/audit.service';
import { type RequestContext } from '../common/context';
import { DomainException, ErrorCode } from '../common/errors';
import { DISPLAY_TEXT, LIVEKIT_NAME, vendorName } from '../providers/names';
import { agoraAccount, agoraChatUser, agoraUid } from '../providers/agora/agora-limits';
import { openViduJoinOptions } from '../providers/openvidu/openvidu-options';
import { ProviderCredentialsService } from '../providers/provider-credentials.service';
import { ParticipantRole, ProviderKind } from '../providers/provider-kind';
import { ProviderRegistry } from '../providers/provider-registry';
import {
  type IssuedJoin,
  type ResolvedCredential,
  type VideoProvider,
} from '../providers/video-provider';
import { SessionConnection } from './connection.entity';
import { assertMayIssue, assertMayManage, assertMayPublishCamera } from './session-policy';
import { ConnectionStatus, SessionStatus } from './session-status';
import { SessionsService, type Via } from './sessions.service';
import { type VideoSession } from './video-session.entity';

export const DEFAULT_TTL_SECONDS = 3600;
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

/** What a caller asks for when issuing a join credential. */
export interface JoinInput {
  sessionId: string;
  role?: ParticipantRole | null;
  identity?: string | null;
  displayName?: string | null;
  data?: string | null;
  ttlSeconds?: number | null;
  agora?: {
    uid?: number | string | null;
    userAccount?: string | null;
    rtm?: boolean | null;
    rtmStreamChannel?: boolean | null;
    chat?: boolean | null;
  } | null;
  /** OpenVidu 2 connection properties but role and data (openvidu-options.ts checks them). */
  openvidu?: object | null;
  /** Fishjam: a livestream token (viewer for a SUBSCRIBER, streamer for a PUBLISHER), not a peer. */
  fishjam?: { livestream?: boolean | null } | null;
}

/** Where an issuance came from, for its audit event: the channel (`via`) and the route in it. */
export interface JoinOrigin {
  /** `graphql` or `compat.<vendor>`. */
  via: Via;
  /** The operation or compatibility route, e.g. `graphql:createConnection`, `agora.rtc`. */
  route: string;
}

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

export const sha256 = (value: string): Buffer => createHash('sha256').update(value).digest();

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
    private readonly credentials: ProviderCredentialsService,
    private readonly registry: ProviderRegistry,
    private readonly audit: AuditService,
  ) {}

  /**
   * Issues a join credential in a loaded session (JoinRoom gets the room). The connection row and its
   * `connection.created` event commit together in the tenant's audit batch; if that fails, what
   * the vendor issued is taken back.
   */
  async issueFor(
    ctx: RequestContext,
    session: VideoSession,
    input: Omit<JoinInput, 'sessionId'>,
    origin: JoinOrigin,
  ): Promise<IssuedConnection> {
    const role = input.role ?? ParticipantRole.PUBLISHER;
    assertMayIssue(ctx, role);
    assertMayPublishCamera(ctx, input.openvidu);
    if (session.status !== SessionStatus.ACTIVE || !session.externalId) {
      throw DomainException.conflict('The session has ended', 'sessionId');
    }
    if (!session.credentialId) {
      throw DomainException.conflict('The credential of this session was deleted', 'sessionId');
    }
    const cred = await this.sessions.credentialOf(ctx, session);
    const adapter = this.registry.get(session.provider);
    const ttlSeconds = this.ttl(adapter, cred, input.ttlSeconds);
    const { identity, displayName, options } = this.checkJoin(session.provider, input);

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
    const row = this.newRow(ctx, session, role, issued, {
      identity: issuedIdentity(session.provider, issued, identity),
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
      const cred = await this.credentials.resolve(ctx, session.credentialId, session.provider);
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
    // Red5's cap is the credential's own tokenTtlSeconds (the adapter enforces it too).
    const max =
      cred.kind === ProviderKind.RED5
        ? Math.min(
            adapter.maxTtlSeconds,
            Number(cred.config.tokenTtlSeconds) || adapter.maxTtlSeconds,
          )
        : adapter.maxTtlSeconds;
    // Red5's default is the credential's own lifetime; elsewhere an hour (or less, if capped).
    const ttl =
      requested ?? (cred.kind === ProviderKind.RED5 ? max : Math.min(DEFAULT_TTL_SECONDS, max));
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
   * Agora ids) — so a route that creates the session first can refuse bad input before that.
   * Returns the identity and vendor options; Agora identities come from its own block.
   */
  checkJoin(
    kind: ProviderKind,
    input: Omit<JoinInput, 'sessionId'>,
  ): { identity: string; displayName: string | null; options: Record<string, unknown> } {
    const displayName =
      input.displayName != null ? vendorName(input.displayName, 'displayName', DISPLAY_TEXT) : null;
    if (input.data != null && input.data.length > MAX_DATA_CHARS) {
      throw DomainException.badInput('data', `data must be at most ${MAX_DATA_CHARS} characters`);
    }
    if (input.agora != null && kind !== ProviderKind.AGORA) {
      throw DomainException.badInput('agora', `agora options do not apply to a ${kind} session`);
    }
    if (input.fishjam != null && kind !== ProviderKind.FISHJAM) {
      throw DomainException.badInput(
        'fishjam',
        `fishjam options do not apply to a ${kind} session`,
      );
    }
    if (input.openvidu != null && kind !== ProviderKind.OPENVIDU) {
      throw DomainException.badInput(
        'openvidu',
        `openvidu options do not apply to a ${kind} session`,
      );
    }
    if (kind === ProviderKind.AGORA) {
      if (input.identity != null) {
        throw DomainException.badInput(
          'identity',
          'Agora identities are agora.uid or agora.userAccount',
        );
      }
      const { uid, userAccount, rtm, rtmStreamChannel, chat } = input.agora ?? {};
      const account = userAccount != null && userAccount !== '';
      if (account) agoraAccount(userAccount);
      else agoraUid(uid);
      if (rtmStreamChannel === true && rtm !== true) {
        throw DomainException.badInput('rtmStreamChannel', 'rtmStreamChannel needs rtm');
      }
      if (chat === true) {
        const user = account ? userAccount : uid ? String(uid) : null;
        if (!user)
          throw DomainException.badInput(
            'chat',
            'A Chat token needs a non-zero uid or a userAccount',
          );
        agoraChatUser(user, account ? 'userAccount' : 'uid');
      }
      const options = {
        uid,
        userAccount,
        rtm: rtm === true,
        rtmStreamChannel: rtmStreamChannel === true,
        chat: chat === true,
      };
      return { identity: '', displayName, options };
    }
    const identity =
      input.identity != null
        ? vendorName(input.identity, 'identity', LIVEKIT_NAME)
        : `rk-${randomBytes(8).toString('hex')}`;
    if (input.fishjam?.livestream === true) {
      return { identity, displayName, options: { livestream: true } };
    }
    const options =
      kind === ProviderKind.OPENVIDU ? { ...openViduJoinOptions(input.openvidu, input.role) } : {};
    return { identity, displayName, options };
  }

  private newRow(
    ctx: RequestContext,
    session: VideoSession,
    role: ParticipantRole,
    issued: IssuedJoin,
    who: { identity: string; displayName: string | null },
  ): SessionConnection {
    const c = issued.credential;
    const red5 = session.provider === ProviderKind.RED5;
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
      tokenHash: red5 ? sha256(String(c.token)) : null,
      username: red5 ? String(c.username) : null,
      passwordHash: red5 ? sha256(String(c.password)) : null,
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

/** The identity recorded for a join: Agora's uid or account as minted, otherwise the input's. */
function issuedIdentity(kind: ProviderKind, issued: IssuedJoin, identity: string): string {
  if (kind !== ProviderKind.AGORA) return identity;
  const { uid, userAccount } = issued.credential;
  if (typeof userAccount === 'string' && userAccount) return userAccount;
  return typeof uid === 'number' ? String(uid) : '0';
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
