import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager, IsNull, Not } from 'typeorm';
import { type AuditActor } from '../audit/audit-actor';
import { AuditOutcome } from '../audit/audit-event.entity';
import { AuditService } from '../audit/audit.service';
import { ActorType, AuthMethod } from '../common/auth/roles';
import { type RequestMeta } from '../common/context';
import { DomainException, isUniqueViolation } from '../common/errors';
import { CredentialVault } from '../providers/vault/credential-vault';
import { ProviderKind } from '../providers/provider-kind';
import { ProviderRegistry } from '../providers/provider-registry';
import { type ResolvedCredential } from '../providers/video-provider';
import { type VendorEvent } from '../providers/webhook-verifier';
import { TenantDirectory } from '../tenants/tenant-directory';
import { SessionConnection } from './connection.entity';
import { ConnectionStatus, SessionStatus } from './session-status';
import { SessionsService } from './sessions.service';
import { VideoSession } from './video-session.entity';
import { WebhookReceipt } from './webhook-receipt.entity';
import { UUID } from '../common/text';

export type WebhookResult = 'applied' | 'duplicate' | 'ignored' | 'unknown_session';

/** The request body as read by the raw-body middleware. */
export interface RawWebhookBody {
  raw: Buffer | undefined;
  tooLarge: boolean;
}

/**
 * Vendor webhooks: authenticated per credential by the vendor's own scheme (its adapter's
 * WebhookVerifier, e.g. a static header secret or a JWT over the raw body), then applied idempotently — a receipt keyed by the event makes a replay a no-op. A bad
 * signature is refused before anything is read or changed.
 */
@Injectable()
export class WebhooksService {
  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly vault: CredentialVault,
    private readonly sessions: SessionsService,
    private readonly audit: AuditService,
    private readonly tenants: TenantDirectory,
    private readonly registry: ProviderRegistry,
  ) {}

  /**
   * One delivery for a credential of `kind`: located, authenticated by the vendor's scheme (a
   * header checked before the body is read, or a signature over the body), parsed, applied.
   */
  async receive(
    kind: ProviderKind,
    slug: string,
    credentialId: string,
    authorization: string | undefined,
    body: RawWebhookBody,
    meta: RequestMeta,
  ): Promise<WebhookResult> {
    const hook = this.registry.get(kind).webhook;
    if (!hook) throw DomainException.notFound('Webhook route');
    const { cred, actor } = await this.locate(slug, credentialId, kind, meta);
    const refused = (reason: string): Promise<never> => this.refuse(actor, kind, cred.id, reason);
    if (!hook.signsBody) {
      const reason = await hook.verify(cred, authorization, Buffer.alloc(0));
      if (reason) return refused(reason);
    }
    // A signature over the body needs the body: one too large to read is neither checked nor applied.
    const raw = await this.bytes(actor, cred, body);
    if (hook.signsBody) {
      const reason = await hook.verify(cred, authorization, raw);
      if (reason) return refused(reason);
    }
    const json = await this.json(actor, cred, raw);
    return this.apply(actor, cred, hook.parse(json, raw));
  }

  /**
   * The tenant and credential a webhook URL names. An unknown slug has no audit chain and is
   * refused silently; an unknown, foreign or other-vendor credential is refused and audited.
   */
  private async locate(
    slug: string,
    credentialId: string,
    kind: ProviderKind,
    meta: RequestMeta,
  ): Promise<{ cred: ResolvedCredential; actor: AuditActor }> {
    const tenantId = await this.tenants.idOf(slug);
    if (!tenantId) throw DomainException.unauthenticated('webhook_refused');
    const actor: AuditActor = {
      tenantId,
      actorType: ActorType.VENDOR,
      actorId: null,
      actorLabel: kind.toLowerCase(),
      authMethod: AuthMethod.NONE,
      requestId: meta.requestId,
      clientIp: meta.clientIp,
      userAgent: meta.userAgent,
    };
    let cred: ResolvedCredential | null = null;
    if (UUID.test(credentialId)) {
      cred = await this.vault.resolve({ tenantId }, credentialId, kind).catch(() => null);
    }
    if (!cred) return this.refuse(actor, kind, null, 'unknown_credential');
    return { cred, actor };
  }

  /** A refused delivery: one DENIED event, then the same 401 whatever the reason. */
  private async refuse(
    actor: AuditActor,
    kind: ProviderKind,
    credentialId: string | null,
    reason: string,
  ): Promise<never> {
    await this.audit.recordQuietly(actor, {
      action: 'webhook.received',
      outcome: AuditOutcome.DENIED,
      errorCode: 'UNAUTHENTICATED',
      targetType: 'provider_credential',
      targetId: credentialId,
      metadata: {
        provider: kind,
        credentialId: credentialId ?? '',
        event: 'unknown',
        result: reason,
      },
    });
    throw DomainException.unauthenticated('webhook_refused');
  }

  /** The body bytes; an oversized body (read and discarded) is refused with one FAILURE event. */
  private async bytes(
    actor: AuditActor,
    cred: ResolvedCredential,
    body: RawWebhookBody,
  ): Promise<Buffer> {
    if (!body.tooLarge) return body.raw ?? Buffer.alloc(0);
    await this.failed(actor, cred, 'too_large');
    throw DomainException.badInput('body', 'The webhook body is larger than 64 KB');
  }

  private async json(
    actor: AuditActor,
    cred: ResolvedCredential,
    raw: Buffer,
  ): Promise<Record<string, unknown>> {
    try {
      const v: unknown = JSON.parse(raw.toString('utf8'));
      if (typeof v === 'object' && v !== null && !Array.isArray(v))
        return v as Record<string, unknown>;
    } catch {
      /* below */
    }
    await this.failed(actor, cred, 'malformed');
    throw DomainException.badInput('body', 'The webhook body is not a JSON object');
  }

  private failed(actor: AuditActor, cred: ResolvedCredential, result: string): Promise<void> {
    return this.audit.recordQuietly(actor, {
      action: 'webhook.received',
      outcome: AuditOutcome.FAILURE,
      errorCode: 'BAD_USER_INPUT',
      targetType: 'provider_credential',
      targetId: cred.id,
      metadata: { provider: cred.kind, credentialId: cred.id, event: 'unknown', result },
    });
  }

  /** Receipt, state change and audit event commit together; a replayed event changes nothing. */
  private async apply(
    actor: AuditActor,
    cred: ResolvedCredential,
    event: VendorEvent,
  ): Promise<WebhookResult> {
    const tenantId = actor.tenantId as string;
    const via = `webhook.${cred.kind.toLowerCase()}`;
    const record = (m: EntityManager | null, result: WebhookResult) =>
      this.audit.record(m, actor, {
        action: 'webhook.received',
        targetType: 'provider_credential',
        targetId: cred.id,
        metadata: { provider: cred.kind, credentialId: cred.id, event: event.name, result },
      });
    try {
      return await this.ds.transaction(async (m) => {
        await m.insert(WebhookReceipt, {
          tenantId,
          credentialId: cred.id,
          eventKey: event.key,
          event: event.name,
        });
        const result = await this.change(m, actor, cred, event, via);
        await record(m, result);
        return result;
      });
    } catch (err) {
      if (!isUniqueViolation(err)) throw err;
      await record(null, 'duplicate');
      return 'duplicate';
    }
  }

  private async change(
    m: EntityManager,
    actor: AuditActor,
    cred: ResolvedCredential,
    event: VendorEvent,
    via: string,
  ): Promise<WebhookResult> {
    if (event.change.kind === 'none') return 'ignored';
    if (!event.room) return 'unknown_session';
    const session = await m.findOne(VideoSession, {
      where: {
        tenantId: actor.tenantId as string,
        credentialId: cred.id,
        externalId: event.room,
        status: Not(SessionStatus.CREATING),
      },
      order: { createdAt: 'DESC' },
    });
    if (!session) return 'unknown_session';
    if (event.change.kind === 'session_ended') {
      await this.sessions.markEnded(actor, session, `vendor:${event.name}`, via, m);
      return 'applied';
    }
    const joined = event.change.kind === 'joined';
    const where = {
      tenantId: session.tenantId,
      sessionId: session.id,
      [event.change.by]: event.change.value,
      status: joined ? ConnectionStatus.ISSUED : Not(ConnectionStatus.REVOKED),
    };
    const conn = await m.findOne(SessionConnection, {
      where: joined ? where : { ...where, leftAt: IsNull() },
      order: { createdAt: 'DESC' },
    });
    if (!conn) return 'ignored';
    await m.update(
      SessionConnection,
      { id: conn.id },
      joined
        ? { status: ConnectionStatus.JOINED, joinedAt: new Date() }
        : { status: ConnectionStatus.LEFT, leftAt: new Date() },
    );
    return 'applied';
  }
}
