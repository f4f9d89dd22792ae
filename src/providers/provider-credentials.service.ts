import { createPrivateKey } from 'node:crypto';
import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import proxyAddr from 'proxy-addr';
import { DataSource, type EntityManager, Not } from 'typeorm';
import { AuditOutcome } from '../audit/audit-event.entity';
import { AuditService } from '../audit/audit.service';
import { MemberRole, roleAtLeast } from '../common/auth/roles';
import { type BusCache, Caches } from '../common/cache';
import { type RequestContext } from '../common/context';
import { SecretBox, SecretBoxError } from '../common/crypto/secret-box';
import { DomainException, ErrorCode, isUniqueViolation } from '../common/errors';
import { hasControlChars } from '../common/text';
import {
  type CreateProviderCredentialInput,
  type UpdateProviderCredentialInput,
} from './dto/provider-credential.dto';
import { SessionStatus } from '../sessions/session-status';
import { VideoSession } from '../sessions/video-session.entity';
import { ProviderCredential } from './provider-credential.entity';
import { ProviderKind } from './provider-kind';
import { ProviderRegistry } from './provider-registry';
import {
  assertSecretGivenForNewEndpoint,
  credentialFieldContext,
  endpointOf,
} from './secret-binding';
import { type ResolvedCredential } from './video-provider';

const BLOCKS = ['openvidu', 'livekit', 'pexip', 'agora', 'fishjam', 'red5'] as const;
type Block = (typeof BLOCKS)[number];
const KIND_OF: Record<Block, ProviderKind> = {
  openvidu: ProviderKind.OPENVIDU,
  livekit: ProviderKind.LIVEKIT,
  pexip: ProviderKind.PEXIP,
  agora: ProviderKind.AGORA,
  fishjam: ProviderKind.FISHJAM,
  red5: ProviderKind.RED5,
};
const BLOCK_OF = Object.fromEntries(Object.entries(KIND_OF).map(([b, k]) => [k, b])) as Record<
  ProviderKind,
  Block
>;
const HEX32 = /^[0-9a-fA-F]{32}$/;

interface Split {
  config: Record<string, unknown>;
  secrets: Record<string, string | undefined>;
}

/**
 * The vendor-credential vault. OWNER/ADMIN only. Secrets are validated, sealed per field and never
 * returned; decrypted material is cached in this process's memory only (never logged, never sent
 * anywhere), until the credential changes in any instance (a `credential` invalidation) or the
 * cache TTL ends.
 */
@Injectable()
export class ProviderCredentialsService {
  private readonly logger = new Logger('ProviderCredentials');
  /** `i|tenant|id` (by id) and `d|tenant|kind` (the tenant's default), frozen. */
  private readonly cache: BusCache<ResolvedCredential>;

  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly box: SecretBox,
    private readonly audit: AuditService,
    private readonly registry: ProviderRegistry,
    private readonly caches: Caches,
  ) {
    this.cache = caches.create<ResolvedCredential>((lru, e) => {
      // Any change may move the default (makeDefault clears the previous one): drop them all.
      if (e.kind === 'credential')
        lru.deleteWhere((v, key) => v.id === e.id || key.startsWith(`d|${e.tenantId}|`));
      if (e.kind === 'tenant') lru.deleteWhere((v) => v.tenantId === e.id);
    });
  }

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
    const block = onlyBlock(input);
    const kind = KIND_OF[block];
    const split = this.validate(kind, input[block] as Record<string, unknown>, null);
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
      this.seal(row, split.secrets);
      if (input.isDefault) await this.makeDefault(m, row);
      return repo.save(row);
    });
  }

  async update(
    ctx: RequestContext,
    input: UpdateProviderCredentialInput,
  ): Promise<ProviderCredential> {
    this.assertAdmin(ctx);
    const present = BLOCKS.filter((b) => input[b] != null);
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
        if (KIND_OF[present[0]] !== row.kind) {
          throw DomainException.badInput(
            present[0],
            `This credential is ${row.kind}; use the ${BLOCK_OF[row.kind]} block`,
          );
        }
        const split = this.validate(row.kind, input[present[0]] as Record<string, unknown>, row);
        assertSecretGivenForNewEndpoint(row.kind, row.config, split.config, split.secrets);
        const moved = endpointOf(row.kind, row.config) !== endpointOf(row.kind, split.config);
        // Secrets kept across a move (e.g. the OpenVidu webhook secret) follow the new binding.
        const kept = moved ? this.openKept(row, split.secrets) : {};
        row.config = split.config;
        this.seal(row, split.secrets);
        this.reseal(row, kept);
      }
      if (input.name != null) row.name = cleanName(input.name);
      if (input.isDefault === true) await this.makeDefault(m, row);
      if (input.isDefault === false) row.isDefault = false;
      return repo.save(row);
    });
  }

  /**
   * Refused while the credential has open sessions, unless `force`: then those sessions are
   * recorded as ended (`credential_deleted`; nothing is closed at the vendor) and keep their
   * history with no credential.
   */
  async delete(ctx: RequestContext, id: string, force: boolean): Promise<ProviderCredential> {
    this.assertAdmin(ctx);
    return this.save(ctx, 'provider_credential.deleted', async (m) => {
      const row = await m.findOne(ProviderCredential, {
        where: { id, tenantId: ctx.tenantId },
        lock: { mode: 'pessimistic_write' },
      });
      if (!row) throw DomainException.notFound('Provider credential');
      const open = await m.count(VideoSession, {
        where: { tenantId: ctx.tenantId, credentialId: row.id, status: Not(SessionStatus.ENDED) },
      });
      if (open > 0 && !force) {
        throw DomainException.conflict(
          `The credential has ${open} open session(s): end them, or pass force: true`,
        );
      }
      const ending = await m.find(VideoSession, {
        where: { tenantId: ctx.tenantId, credentialId: row.id, status: SessionStatus.ACTIVE },
        select: { id: true, externalId: true },
      });
      for (const s of ending) {
        await this.audit.record(m, ctx, {
          action: 'session.ended',
          targetType: 'video_session',
          targetId: s.id,
          metadata: {
            provider: row.kind,
            externalId: s.externalId ?? '',
            reason: 'credential_deleted',
            via: 'graphql',
          },
        });
      }
      await m.update(
        VideoSession,
        { tenantId: ctx.tenantId, credentialId: row.id, status: SessionStatus.ACTIVE },
        { status: SessionStatus.ENDED, endedAt: new Date(), endReason: 'credential_deleted' },
      );
      // A claim still in flight has nothing to keep: its activation will find it gone.
      await m.delete(VideoSession, {
        tenantId: ctx.tenantId,
        credentialId: row.id,
        status: SessionStatus.CREATING,
      });
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
      const cred = await this.resolve(ctx, id);
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

  /** The credential with decrypted secrets: by id, or the tenant's default for a kind. */
  async resolve(
    ctx: Pick<RequestContext, 'tenantId'> & Partial<Pick<RequestContext, 'joinLink'>>,
    id: string | null,
    kind?: ProviderKind,
  ): Promise<ResolvedCredential> {
    // A join link mints with its tenant's default credential of its vendor, never a chosen one.
    if (id !== null && ctx.joinLink) {
      throw DomainException.forbidden(
        'A join link uses the default credential: credential cannot be chosen',
        'join_link_credential',
      );
    }
    const key = id ? `i|${ctx.tenantId}|${id}` : `d|${ctx.tenantId}|${kind}`;
    const hit = this.cache.get(key);
    if (hit) return ofKind(hit, kind);
    const epoch = this.cache.epoch;
    const repo = this.ds.getRepository(ProviderCredential);
    const row = id
      ? await repo.findOne({ where: { id, tenantId: ctx.tenantId } })
      : await repo.findOne({ where: { tenantId: ctx.tenantId, kind, isDefault: true } });
    if (!row) {
      throw id
        ? DomainException.notFound('Provider credential')
        : DomainException.badInput(
            'provider',
            `No default ${kind} credential: create one or pass credentialId`,
          );
    }
    ofKind(row, kind);
    const secrets: Record<string, string> = {};
    const endpoint = endpointOf(row.kind, row.config);
    try {
      for (const [field, sealed] of Object.entries(row.secrets)) {
        secrets[field] = this.box.openString(
          sealed,
          credentialFieldContext(row.tenantId, row.id, field, endpoint),
        );
      }
    } catch (err) {
      if (!(err instanceof SecretBoxError)) throw err;
      // Fail closed: a secret whose row, tenant or endpoint was edited outside Roomkey is never
      // sent anywhere. An admin sets it again through updateProviderCredential.
      this.logger.warn({ credentialId: row.id }, 'A credential secret does not open: refused');
      throw new DomainException(
        ErrorCode.PROVIDER_UNAVAILABLE,
        'This credential cannot be used: its stored secret does not match its endpoint or record (changed outside Roomkey?). Set the secret again.',
        { reason: 'credential_unreadable' },
      );
    }
    // Shared by every request that hits the cache: frozen, so none can change it for the others.
    const value: ResolvedCredential = Object.freeze({
      id: row.id,
      tenantId: row.tenantId,
      kind: row.kind,
      config: Object.freeze({ ...row.config }),
      secrets: Object.freeze(secrets),
    });
    this.cache.fill(key, value, epoch);
    return value;
  }

  /**
   * keys:rotate — re-wraps every credential secret under the newest master key. The secrets
   * themselves do not change, so the caches of decrypted credentials stay right: nothing to publish.
   */
  async rewrapAll(): Promise<number> {
    const repo = this.ds.getRepository(ProviderCredential);
    let n = 0;
    for (const row of await repo.find()) {
      let changed = false;
      const next: Record<string, string> = {};
      const endpoint = endpointOf(row.kind, row.config);
      for (const [field, sealed] of Object.entries(row.secrets)) {
        next[field] = this.box.rewrap(
          sealed,
          credentialFieldContext(row.tenantId, row.id, field, endpoint),
        );
        changed ||= next[field] !== sealed;
      }
      if (!changed) continue;
      await repo.update(
        { id: row.id },
        { secrets: next, keyVersion: this.box.keyIdOf(Object.values(next)[0]) },
      );
      n++;
    }
    return n;
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

  /** The stored secrets an update keeps (not given again), opened under the current binding. */
  private openKept(
    row: ProviderCredential,
    given: Record<string, string | undefined>,
  ): Record<string, string> {
    const endpoint = endpointOf(row.kind, row.config);
    const kept: Record<string, string> = {};
    for (const [field, sealed] of Object.entries(row.secrets)) {
      if (given[field] !== undefined) continue;
      kept[field] = this.box.openString(
        sealed,
        credentialFieldContext(row.tenantId, row.id, field, endpoint),
      );
    }
    return kept;
  }

  /** Seals kept secrets again under the row's (possibly new) endpoint, fingerprint unchanged. */
  private reseal(row: ProviderCredential, kept: Record<string, string>): void {
    if (Object.keys(kept).length === 0) return;
    const endpoint = endpointOf(row.kind, row.config);
    for (const [field, value] of Object.entries(kept)) {
      row.secrets[field] = this.box.seal(
        value,
        credentialFieldContext(row.tenantId, row.id, field, endpoint),
      );
    }
    const fields = Object.keys(row.secrets).sort();
    row.keyVersion = fields.length ? this.box.keyIdOf(row.secrets[fields[0]]) : null;
  }

  private seal(row: ProviderCredential, secrets: Record<string, string | undefined>): void {
    const next = { ...row.secrets };
    const endpoint = endpointOf(row.kind, row.config);
    for (const [field, value] of Object.entries(secrets)) {
      if (value !== undefined)
        next[field] = this.box.seal(
          value,
          credentialFieldContext(row.tenantId, row.id, field, endpoint),
        );
    }
    row.secrets = next;
    const fields = Object.keys(next).sort();
    row.keyVersion = fields.length ? this.box.keyIdOf(next[fields[0]]) : null;
    if (Object.values(secrets).some((v) => v !== undefined)) {
      const plain = Object.entries(secrets)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => `${k}=${v}`)
        .join('\n');
      row.secretFingerprint = this.box.fingerprint(
        plain,
        `provider-credential|${row.tenantId}|${row.id}`,
      );
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

  /** Per-vendor validation; `existing` (update) keeps secrets that are not given. */
  private validate(
    kind: ProviderKind,
    raw: Record<string, unknown>,
    existing: ProviderCredential | null,
  ): Split {
    const prev = existing?.config ?? {};
    const has = (field: string): boolean => existing !== null && field in existing.secrets;
    const str = (field: string, fallback?: unknown): string => {
      const v = raw[field] ?? fallback;
      if (typeof v !== 'string' || v.trim() === '')
        throw DomainException.badInput(field, `${field} is required`);
      // PEM keys are multi-line: line breaks are allowed there, other control characters nowhere.
      const checked = field === 'privateKeyPem' ? v.replace(/[\r\n\t]/g, '') : v;
      if (hasControlChars(checked))
        throw DomainException.badInput(field, `${field} contains control characters`);
      return v.trim();
    };
    const secret = (field: string): string | undefined => {
      const v = raw[field];
      if (v === undefined || v === null) {
        if (has(field)) return undefined; // keep
        throw DomainException.badInput(field, `${field} is required`);
      }
      return str(field);
    };
    const url = (field: string, schemes = ['http:', 'https:']): string =>
      this.url(str(field, prev[field]), field, schemes);
    switch (kind) {
      case ProviderKind.OPENVIDU: {
        // Optional: absent keeps the stored one (or none).
        const hook = raw.webhookSecret == null ? undefined : str('webhookSecret');
        return {
          config: { url: url('url') },
          secrets: { secret: secret('secret'), webhookSecret: hook },
        };
      }
      case ProviderKind.LIVEKIT:
        return {
          config: {
            url: url('url', ['http:', 'https:', 'ws:', 'wss:']),
            apiKey: str('apiKey', prev.apiKey),
          },
          secrets: { apiSecret: secret('apiSecret') },
        };
      case ProviderKind.PEXIP: {
        const pem = secret('privateKeyPem');
        if (pem !== undefined) checkRsaKey(pem);
        return {
          config: { apiAddress: url('apiAddress'), clientId: str('clientId', prev.clientId) },
          secrets: { privateKeyPem: pem },
        };
      }
      case ProviderKind.AGORA: {
        const appId = str('appId', prev.appId);
        if (!HEX32.test(appId))
          throw DomainException.badInput('appId', 'appId must be 32 hexadecimal characters');
        const cert = secret('appCertificate');
        if (cert !== undefined && !HEX32.test(cert)) {
          throw DomainException.badInput(
            'appCertificate',
            'appCertificate must be 32 hexadecimal characters',
          );
        }
        return { config: { appId }, secrets: { appCertificate: cert } };
      }
      case ProviderKind.FISHJAM:
        return {
          config: { fishjamUrl: url('fishjamUrl') },
          secrets: { managementToken: secret('managementToken') },
        };
      case ProviderKind.RED5: {
        const ttl = raw.tokenTtlSeconds ?? prev.tokenTtlSeconds ?? 3600;
        const ips = (raw.allowedIps ?? prev.allowedIps ?? []) as string[];
        try {
          if (ips.length) proxyAddr.compile(ips);
        } catch {
          throw DomainException.badInput(
            'allowedIps',
            'allowedIps must be IP addresses or CIDR ranges',
          );
        }
        return { config: { tokenTtlSeconds: ttl, allowedIps: ips }, secrets: {} };
      }
    }
  }

  private url(value: string, field: string, schemes: string[]): string {
    let u: URL;
    try {
      u = new URL(value);
    } catch {
      throw DomainException.badInput(field, `${field} must be an absolute URL`);
    }
    if (!schemes.includes(u.protocol))
      throw DomainException.badInput(field, `${field} must use ${schemes.join(' or ')}`);
    if (u.username || u.password)
      throw DomainException.badInput(field, `${field} must not contain credentials`);
    if (/[?#]/.test(value))
      throw DomainException.badInput(field, `${field} must not contain a query or fragment`);
    return value.replace(/\/$/, '');
  }
}

/** Refuses a credential of another vendor than the one asked for. */
function ofKind<T extends { kind: ProviderKind }>(cred: T, kind: ProviderKind | undefined): T {
  if (kind && cred.kind !== kind)
    throw DomainException.badInput('credentialId', `This credential is ${cred.kind}, not ${kind}`);
  return cred;
}

function onlyBlock(input: CreateProviderCredentialInput): Block {
  const present = BLOCKS.filter((b) => input[b] != null);
  if (present.length !== 1) {
    throw DomainException.badInput('input', `Give exactly one vendor block (${BLOCKS.join(', ')})`);
  }
  return present[0];
}

function cleanName(name: string): string {
  const n = name.normalize('NFC').trim();
  if (!n || n.length > 100 || hasControlChars(n))
    throw DomainException.badInput('name', 'name must be 1-100 printable characters');
  return n;
}

/** Pexip keys: unencrypted PEM, RSA, at least 2048 bits. */
function checkRsaKey(pem: string): void {
  if (/ENCRYPTED/.test(pem)) {
    throw DomainException.badInput(
      'privateKeyPem',
      'privateKeyPem is encrypted: provide the key without a passphrase',
    );
  }
  let key;
  try {
    key = createPrivateKey({ key: pem, format: 'pem' });
  } catch {
    throw DomainException.badInput('privateKeyPem', 'privateKeyPem is not a valid PEM private key');
  }
  if (key.asymmetricKeyType !== 'rsa')
    throw DomainException.badInput('privateKeyPem', 'privateKeyPem must be an RSA key');
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  if (bits < 2048)
    throw DomainException.badInput(
      'privateKeyPem',
      `privateKeyPem is ${bits} bits; at least 2048 are required`,
    );
}
