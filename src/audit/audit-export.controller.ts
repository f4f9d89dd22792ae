import { Controller, Get, Query, Res } from '@nestjs/common';
import { type Response } from 'express';
import { Roles } from '../common/auth/decorators';
import { MemberRole } from '../common/auth/roles';
import { Ctx, type RequestContext } from '../common/context';
import { parseIsoDate } from '../common/dates';
import { DomainException } from '../common/errors';
import { streamExport } from './audit-export';
import { AuditService } from './audit.service';

function parseDate(value: string | undefined, field: string): Date | null {
  if (value === undefined || value === '') return null;
  const d = parseIsoDate(value);
  if (!d)
    throw DomainException.badInput(
      field,
      `${field} must be an ISO-8601 date between 1970 and 9999`,
    );
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
    await streamExport(this.audit, res, ctx.tenantId, { format, from, to });
    res.end();
  }
}
