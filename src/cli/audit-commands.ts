import * as fs from 'node:fs';
import { once } from 'node:events';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { type Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import { type INestApplicationContext } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { systemActor } from '../audit/audit-actor';
import {
  type ChainedEvent,
  ChainVerifier,
  PLATFORM_TENANT_ID,
  type VerifyResult,
} from '../audit/audit-chain';
import { streamExport } from '../audit/audit-export';
import { AuditService } from '../audit/audit.service';
import { parseIsoDate } from '../common/dates';
import { DomainException } from '../common/errors';
import { KeyStore } from '../common/keys/key-store';
import { TenantsService } from '../tenants/tenants.service';
import { type CliEnv, type CliIo, UsageError } from './cli-types';

type Handler = (env: CliEnv, args: string[], io: CliIo) => Promise<void>;

function opts(args: string[], names: string[]): Record<string, string | undefined> {
  try {
    const { values } = parseArgs({
      args,
      options: Object.fromEntries(names.map((n) => [n, { type: 'string' as const }])),
      strict: true,
      allowPositionals: false,
    });
    return values;
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

function date(value: string | undefined, name: string): Date | null {
  if (value === undefined) return null;
  const d = parseIsoDate(value);
  if (!d) throw new UsageError(`--${name} must be an ISO-8601 date between 1970 and 9999`);
  return d;
}

async function tenantId(app: INestApplicationContext, slug: string): Promise<string> {
  const t = await app.get(TenantsService).findBySlug(slug);
  if (!t) throw DomainException.notFound(`Tenant "${slug}"`);
  return t.id;
}

function report(io: CliIo, r: VerifyResult): void {
  io.out(JSON.stringify(r));
  if (!r.ok) throw new VerificationFailed();
}

/** Exit code 1 without a stack trace: the JSON line already says what is wrong. */
export class VerificationFailed extends Error {
  constructor() {
    super('audit chain verification failed');
  }
}

/** Verifies an NDJSON export without the database: only the audit keys are needed. */
async function verifyFile(file: string, keys: KeyStore): Promise<VerifyResult> {
  const ring = keys.ring('audit');
  let verifier: ChainVerifier | null = null;
  const lines = readline.createInterface({
    input: fs.createReadStream(file, 'utf8'),
    crlfDelay: Infinity,
  });
  let lineNo = 0;
  for await (const line of lines) {
    lineNo++;
    if (line.trim() === '') continue;
    let e: ChainedEvent;
    try {
      e = JSON.parse(line) as ChainedEvent;
    } catch {
      return {
        ok: false,
        checkedCount: verifier?.result().checkedCount ?? 0,
        firstInvalidEventId: null,
        reason: `malformed_line_${lineNo}`,
      };
    }
    // A full export starts at seq 1 from the genesis; a ranged or pruned one is anchored on its first event.
    verifier ??= new ChainVerifier((kid) => ring.get(kid), null, e.seq !== '1');
    if (!verifier.add(e)) break;
  }
  return (
    verifier?.result() ?? { ok: true, checkedCount: 0, firstInvalidEventId: null, reason: null }
  );
}

export const AUDIT_COMMANDS: Record<string, Handler> = {
  'audit:verify': async ({ config, app: start, cwd }, args, io) => {
    const v = opts(args, ['tenant', 'file']);
    if (Boolean(v.tenant) === Boolean(v.file))
      throw new UsageError('give exactly one of --tenant or --file');
    if (v.file) {
      const file = path.resolve(cwd ?? process.cwd(), v.file);
      if (!fs.existsSync(file)) throw new UsageError(`no such file: ${v.file}`);
      report(io, await verifyFile(file, new KeyStore(config)));
      return;
    }
    const app = await start();
    report(io, await app.get(AuditService).verify(await tenantId(app, v.tenant!)));
  },

  'audit:export': async ({ app: start, cwd }, args, io) => {
    const v = opts(args, ['tenant', 'format', 'from', 'to', 'out']);
    if (!v.tenant) throw new UsageError('--tenant is required');
    const format = v.format ?? 'ndjson';
    if (format !== 'ndjson' && format !== 'csv')
      throw new UsageError('--format must be ndjson or csv');
    const from = date(v.from, 'from');
    const to = date(v.to, 'to');
    const app = await start();
    const id = await tenantId(app, v.tenant);
    const audit = app.get(AuditService);
    await audit.record(
      null,
      { ...systemActor('cli'), tenantId: id },
      {
        action: 'audit.exported',
        metadata: { format, from: from?.toISOString() ?? null, to: to?.toISOString() ?? null },
      },
    );
    const out: Writable = v.out
      ? fs.createWriteStream(path.resolve(cwd ?? process.cwd(), v.out))
      : (io.stdout ?? process.stdout);
    const n = await streamExport(audit, out, id, { format, from, to });
    if (v.out) {
      out.end();
      await once(out, 'finish');
      io.out(JSON.stringify({ exported: n, file: v.out, format }));
    }
  },

  'audit:prune': async ({ config, app: start }, args, io) => {
    const v = opts(args, ['before', 'tenant']);
    const before = date(v.before, 'before');
    if (!before) throw new UsageError('--before is required');
    if (before.getTime() > Date.now()) throw new UsageError('--before must not be in the future');
    const app = await start();
    const heads = await app
      .get(DataSource)
      .query<Array<{ tenant_id: string }>>(
        'SELECT tenant_id FROM audit_chain_head ORDER BY tenant_id',
      );
    const ids = v.tenant ? [await tenantId(app, v.tenant)] : heads.map((r) => r.tenant_id);
    const audit = app.get(AuditService);
    for (const id of ids) {
      const r = await audit.prune(id, before, systemActor('cli'), {
        statementTimeoutMs: config.database.maintenanceTimeoutMs,
      });
      io.out(JSON.stringify({ tenantId: id === PLATFORM_TENANT_ID ? 'platform' : id, ...r }));
    }
  },
};
