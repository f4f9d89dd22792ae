import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import { AuditOutcome } from '../audit/audit-event.entity';
import { AuditService } from '../audit/audit.service';
import { MemberRole, roleAtLeast } from '../common/auth/roles';
import { Caches } from '../common/cache';
import { type RequestContext } from '../common/context';
import { DomainException, ErrorCode, isUniqueViolation } from '../common/errors';
import { hasControlChars } from '../common/text';
import { CredentialFields, type CredentialSplit } from './credential-rules';
import {
  type CreateProviderCredentialInput,
  type UpdateProviderCredentialInput,
} from './dto/provider-credential.dto';
import { ProviderCredential } from './provider-credential.entity';
import { type ProviderKind } from './provider-kind';
import { ProviderRegistry } from './provider-registry';
import { CredentialLifecycle } from './vault/credential-lifecycle';
import { CredentialVault } from './vault/credential-vault';
import { assertSecretGivenForNewEndpoint } from './vault/secret-binding';

/** No stored secrets (a create). */
const EMPTY: readonly string[] = [];

/**
 * Managing vendor credentials: OWNER/ADMIN only, each vendor block checked by its vendor's rules,
 * secrets sealed by the vault (write-only, never returned), every change audited and published to
 * every instance's caches. Reading a credential for use is CredentialVault's job.
 */
@Injectable()
export class ProviderCredentialsService {
  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly vault: CredentialVault,
    private readonly audit: AuditService,
    private readonly registry: ProviderRegistry,
    private readonly caches: Caches,
    private readonly lifecycle: CredentialLifecycle,
  ) {}

  list(ctx: RequestContext): Promise<ProviderCredential[]> {
    return this.ds
      .getRepository(ProviderCredential)
      .find({ where: { tenantId: ctx.tenantId }, order: { createdAt: 'ASC' } });
  }

  async get(ctx: RequestContext, id: string): Promise<ProviderCredential> {
    const row = await this.ds
      .getRepository(ProviderCredential)
      .findOne({ where: { id, tenantId: ctx.tenantId } });
    if (!row) throw DomainException.notFound('Provider credential');
    return row;
  }

  async create(
    ctx: RequestContext,
    input: CreateProviderCredentialInput,
  ): Promise<ProviderCredential> {
    this.assertAdmin(ctx);
    const kind = this.onlyBlock(input);
    const split = this.split(kind, blockOf(input, this.registry.blockOf(kind)), null);
    return this.save(ctx, 'provider_credential.created', async (m) => {
      const repo = m.getRepository(ProviderCredential);
      const row = await repo.save(
        repo.create({
          tenantId: ctx.tenantId,
          kind,
          name: cleanName(input.name),
          isDefault: false,
          config: split.config,
          secrets: {},
        }),
      );
      this.vault.seal(row, split.secrets);
      if (input.isDefault) await this.makeDefault(m, row);
      return repo.save(row);
    });
  }

  async update(
    ctx: RequestContext,
    input: UpdateProviderCredentialInput,
  ): Promise<ProviderCredential> {
    this.assertAdmin(ctx);
    const present = this.presentBlocks(input);
    if (present.length > 1)
      throw DomainException.badInput('input', 'Give at most one vendor block');
    return this.save(ctx, 'provider_credential.updated', async (m) => {
      const repo = m.getRepository(ProviderCredential);
      const row = await repo.findOne({
        where: { id: input.id, tenantId: ctx.tenantId },
        lock: { mode: 'pessimistic_write' },
      });
      if (!row) throw DomainException.notFound('Provider credential');
      if (present.length === 1) {
        const block = this.registry.blockOf(row.kind);
        if (present[0] !== block) {
          throw DomainException.badInput(
            present[0],
            `This credential is ${row.kind}; use the ${block} block`,
          );
        }
        const split = this.split(row.kind, blockOf(input, block), row);
        const rules = this.registry.get(row.kind).credential;
        assertSecretGivenForNewEndpoint(rules, row.config, split.config, split.secrets);
        // Secrets kept across a move (e.g. the OpenVidu webhook secret) follow the new binding.
        this.vault.rebind(row, split.config, split.secrets);
        this.vault.seal(row, split.secrets);
      }
      if (input.name != null) row.name = cleanName(input.name);
      if (input.isDefault === true) await this.makeDefault(m, row);
      if (input.isDefault === false) row.isDefault = false;
      return repo.save(row);
    });
  }

  /**
   * Deletes a credential. What uses it decides first, in the same transaction (CredentialLifecycle):
   * the session layer refuses while it has open sessions, unless `force`, and then records those
   * sessions as ended (`credential_deleted`; nothing is closed at the vendor).
   */
  async delete(ctx: RequestContext, id: string, force: boolean): Promise<ProviderCredential> {
    this.assertAdmin(ctx);
    return this.save(ctx, 'provider_credential.deleted', async (m) => {
      const row = await m.findOne(ProviderCredential, {
        where: { id, tenantId: ctx.tenantId },
        lock: { mode: 'pessimistic_write' },
      });
      if (!row) throw DomainException.notFound('Provider credential');
      await this.lifecycle.beforeDelete(m, ctx, row, force);
      await m.delete(ProviderCredential, { id: row.id, tenantId: ctx.tenantId });
      return row; // save() publishes the change, which also drops the sessions ended above
    });
  }

  /** A cheap authenticated vendor call (or a local self-check), timed. Never throws for vendor errors. */
  async test(
    ctx: RequestContext,
    id: string,
  ): Promise<{ ok: boolean; latencyMs: number; message: string }> {
    this.assertAdmin(ctx);
    const row = await this.get(ctx, id);
    const started = Date.now();
    let result: { ok: boolean; message: string };
    try {
      // Inside the try: a secret that no longer opens is a finding of the test, not an error.
      const cred = await this.vault.resolve(ctx, id);
      result = { ok: true, message: await this.registry.get(cred.kind).checkHealth(cred) };
    } catch (err) {
      const e = err instanceof DomainException ? err : null;
      result = { ok: false, message: e ? `${e.code}: ${e.message}` : 'Unexpected error' };
    }
    const latencyMs = Date.now() - started;
    await this.audit.record(null, ctx, {
      action: 'provider_credential.tested',
      outcome: result.ok ? AuditOutcome.SUCCESS : AuditOutcome.FAILURE,
      targetType: 'provider_credential',
      targetId: id,
      metadata: { kind: row.kind, ok: result.ok, latencyMs },
    });
    return { ...result, latencyMs };
  }

  private async save(
    ctx: RequestContext,
    action:
      'provider_credential.created' | 'provider_credential.updated' | 'provider_credential.deleted',
    work: (m: EntityManager) => Promise<ProviderCredential>,
  ): Promise<ProviderCredential> {
    try {
      return await this.ds.transaction(async (m) => {
        const row = await work(m);
        await this.audit.record(m, ctx, {
          action,
          targetType: 'provider_credential',
          targetId: row.id,
          metadata: {
            kind: row.kind,
            name: row.name,
            isDefault: row.isDefault,
            fingerprint: row.secretFingerprint,
          },
        });
        await this.caches.publish(m, { kind: 'credential', tenantId: row.tenantId, id: row.id });
        return row;
      });
    } catch (err) {
      if (isUniqueViolation(err))
        throw DomainException.conflict('A credential with this name already exists', 'name');
      throw err;
    }
  }

  private async makeDefault(m: EntityManager, row: ProviderCredential): Promise<void> {
    await m.update(
      ProviderCredential,
      { tenantId: row.tenantId, kind: row.kind, isDefault: true },
      { isDefault: false },
    );
    row.isDefault = true;
  }

  private assertAdmin(ctx: RequestContext): void {
    if (!roleAtLeast(ctx.role, MemberRole.ADMIN)) {
      throw new DomainException(
        ErrorCode.FORBIDDEN,
        'Only OWNER or ADMIN can manage vendor credentials',
        { reason: 'forbidden' },
      );
    }
  }

  /** The vendor's rules applied to its block; on update, omitted fields keep the stored ones. */
  private split(
    kind: ProviderKind,
    raw: Record<string, unknown>,
    existing: ProviderCredential | null,
  ): CredentialSplit {
    const fields = new CredentialFields(
      raw,
      existing?.config ?? {},
      existing ? Object.keys(existing.secrets) : EMPTY,
    );
    return this.registry.get(kind).credential.split(fields);
  }

  /** The kind of the one vendor block given. */
  private onlyBlock(input: CreateProviderCredentialInput): ProviderKind {
    const present = this.presentBlocks(input);
    if (present.length !== 1) {
      const all = this.registry
        .all()
        .map((v) => v.block)
        .join(', ');
      throw DomainException.badInput('input', `Give exactly one vendor block (${all})`);
    }
    return this.registry.kindOfBlock(present[0]) as ProviderKind;
  }

  private presentBlocks(input: CreateProviderCredentialInput): string[] {
    return this.registry
      .all()
      .map((v) => v.block)
      .filter((b) => blockOf(input, b) != null);
  }
}

/** The vendor block named `block` of a credential input (added per vendor: vendor-definition.ts). */
function blockOf(input: CreateProviderCredentialInput, block: string): Record<string, unknown> {
  return input[block] as Record<string, unknown>;
}

function cleanName(name: string): string {
  const n = name.normalize('NFC').trim();
  if (!n || n.length > 100 || hasControlChars(n))
    throw DomainException.badInput('name', 'name must be 1-100 printable characters');
  return n;
}
