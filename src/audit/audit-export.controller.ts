import { once } from 'node:events';
import { Controller, Get, Query, Res } from '@nestjs/common';
import { type Response } from 'express';
import { Roles } from '../common/auth/decorators';
import { MemberRole } from '../common/auth/roles';
import { Ctx, type RequestContext } from '../common/context';
import { DomainException } from '../common/errors';
import { csvHeader, csvLine, ndjsonLine } from './audit-export';
import { AuditService, rowToEvent } from './audit.service';

function parseDate(value: string | undefined, field: string): Date | null {
  if (value === undefined || value === '') return null;
  const d = new Date(value);
  if (Number.isNaN(d.getTime()))
    throw DomainException.badInput(field, `${field} must be an ISO-8601 date`);
  return d;
}

@Controller('audit')
export class AuditExportController {
  constructor(private readonly audit: AuditService) {}

  /**
   * Streams the caller's tenant log in chain order as NDJSON (verifiable offline with
   * `npm run roomkey -- audit:verify --file`) or CSV. Reads in batches and honours back-pressure,
   * so memory stays flat for any range.
   */
  @Get('export')
  @Roles(MemberRole.OWNER, MemberRole.ADMIN)
  async export(
    @Ctx() ctx: RequestContext,
    @Res() res: Response,
    @Query('format') format = 'ndjson',
    @Query('from') fromRaw?: string,
    @Query('to') toRaw?: string,
  ): Promise<void> {
    if (format !== 'ndjson' && format !== 'csv')
      throw DomainException.badInput('format', 'format must be ndjson or csv');
    const from = parseDate(fromRaw, 'from');
    const to = parseDate(toRaw, 'to');
    await this.audit.record(null, ctx, {
      action: 'audit.exported',
      metadata: { format, from: from?.toISOString() ?? null, to: to?.toISOString() ?? null },
    });
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    res.status(200);
    res.setHeader(
      'Content-Type',
      format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8',
    );
    res.setHeader(
      'Content-Disposition',
      `attachment; filename="audit-${ctx.tenantSlug}-${stamp}.${format}"`,
    );
    res.setHeader('Cache-Control', 'no-store');
    if (format === 'csv') res.write(csvHeader());
    for await (const batch of this.audit.batches(ctx.tenantId, { from, to, batchSize: 500 })) {
      for (const row of batch) {
        const e = rowToEvent(row);
        if (!res.write(format === 'csv' ? csvLine(e) : ndjsonLine(e))) await once(res, 'drain');
      }
    }
    res.end();
  }
}
