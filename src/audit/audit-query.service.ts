import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { type RequestContext } from '../common/context';
import { DomainException } from '../common/errors';
import { clampFirst, type Page } from '../common/graphql/pagination';
import { isAuditAction } from './audit-actions';
import { PLATFORM_TENANT_ID } from './audit-chain';
import { AuditEvent } from './audit-event.entity';
import { type AuditEventFilter } from './dto/audit-event.model';

const encode = (seq: string): string => Buffer.from(`seq:${seq}`).toString('base64url');
function decode(cursor: string): string {
  const m = /^seq:(\d{1,19})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!m || BigInt(m[1]) > 9_223_372_036_854_775_807n)
    throw DomainException.badInput('after', 'Invalid cursor');
  return m[1];
}

/**
 * Read side of the audit log, newest first, keyset-paged on seq: the caller's tenant chain, or the
 * platform chain for a platform administrator.
 */
@Injectable()
export class AuditQueryService {
  constructor(@InjectRepository(AuditEvent) private readonly events: Repository<AuditEvent>) {}

  list<N>(
    ctx: RequestContext,
    filter: AuditEventFilter | null | undefined,
    args: { first?: number | null; after?: string | null },
    toNode: (e: AuditEvent) => N,
  ): Promise<Page<N>> {
    return this.page(ctx.tenantId, filter, args, toNode);
  }

  /** The platform chain (events of no tenant): platform administrators only. */
  listPlatform<N>(
    ctx: RequestContext,
    filter: AuditEventFilter | null | undefined,
    args: { first?: number | null; after?: string | null },
    toNode: (e: AuditEvent) => N,
  ): Promise<Page<N>> {
    if (!ctx.isPlatformAdmin)
      throw DomainException.forbidden(
        'Only platform administrators can do this',
        'platform_admin_required',
      );
    return this.page(PLATFORM_TENANT_ID, filter, args, toNode);
  }

  private async page<N>(
    chainId: string,
    filter: AuditEventFilter | null | undefined,
    args: { first?: number | null; after?: string | null },
    toNode: (e: AuditEvent) => N,
  ): Promise<Page<N>> {
    const f = filter ?? {};
    if (f.action && !isAuditAction(f.action))
      throw DomainException.badInput('filter.action', 'Unknown audit action');
    if (f.from && f.to && f.from >= f.to)
      throw DomainException.badInput('filter.to', '`to` must be after `from`');
    const first = clampFirst(args.first);
    const qb = this.events
      .createQueryBuilder('e')
      .where('e.tenantId = :tenantId', { tenantId: chainId });
    if (f.action) qb.andWhere('e.action = :action', { action: f.action });
    if (f.actorId) qb.andWhere('e.actorId = :actorId', { actorId: f.actorId });
    if (f.targetType) qb.andWhere('e.targetType = :targetType', { targetType: f.targetType });
    if (f.targetId) qb.andWhere('e.targetId = :targetId', { targetId: f.targetId });
    if (f.outcome) qb.andWhere('e.outcome = :outcome', { outcome: f.outcome });
    if (f.from) qb.andWhere('e.occurredAt >= :from', { from: f.from });
    if (f.to) qb.andWhere('e.occurredAt < :to', { to: f.to });
    if (args.after) qb.andWhere('e.seq < :afterSeq', { afterSeq: decode(args.after) });
    const rows = await qb
      .orderBy('e.seq', 'DESC')
      .take(first + 1)
      .getMany();
    const page = rows.slice(0, first);
    const edges = page.map((e) => ({ cursor: encode(String(e.seq)), node: toNode(e) }));
    return {
      edges,
      nodes: edges.map((e) => e.node),
      pageInfo: { hasNextPage: rows.length > first, endCursor: edges.at(-1)?.cursor ?? null },
    };
  }
}
