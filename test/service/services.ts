import { randomBytes } from 'node:crypto';
import { type INestApplicationContext } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { DataSource } from 'typeorm';
import { CliModule } from '../../src/cli/cli.module';
import { ActorType, AuthMethod, type MemberRole } from '../../src/common/auth/roles';
import { loadConfig } from '../../src/common/config';
import { DomainException } from '../../src/common/errors';
import { RequestContext } from '../../src/common/context';
import { type ProviderKind } from '../../src/providers/provider-kind';
import { ProviderRegistry } from '../../src/providers/provider-registry';
import { VENDORS } from '../../src/providers/vendors';
import { type VideoProvider } from '../../src/providers/video-provider';
import { type SeededTenant, seedTenant } from '../factories/tenancy';
import { seedMigratedInMemoryDatabases } from '../helpers/database';
import { TEST_AUDIT_KEYS, TEST_MASTER_KEYS } from '../helpers/test-app';
import { FakeVendor } from './fake-vendor';

/**
 * The service tier: Roomkey's domain modules (the CLI's graph: no HTTP, no GraphQL) on an in-memory
 * PGlite that starts migrated, with every vendor adapter replaced by a FakeVendor. Tests call the
 * services with an explicit RequestContext, as resolvers and compatibility routes do, and see the
 * rows, the audit events and exactly what reached the vendor.
 */
export interface Services {
  app: INestApplicationContext;
  ds: DataSource;
  vendor(kind: ProviderKind): FakeVendor;
  /** A new tenant with an OWNER, and a context for a caller of `role` in it. */
  tenant(): Promise<SeededTenant>;
  as(tenant: SeededTenant, role: MemberRole): RequestContext;
  close(): Promise<void>;
}

export async function startServices(env: Record<string, string> = {}): Promise<Services> {
  seedMigratedInMemoryDatabases();
  const config = loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'warn',
    ROOMKEY_DATA_DIR: 'memory://',
    ROOMKEY_AUDIT_KEYS: TEST_AUDIT_KEYS,
    ROOMKEY_MASTER_KEYS: TEST_MASTER_KEYS,
    ...env,
  });
  const fakes = new Map<ProviderKind, FakeVendor>();
  const moduleRef = await Test.createTestingModule({ imports: [CliModule.forRoot(config)] })
    .overrideProvider(ProviderRegistry)
    .useFactory({
      factory: (...adapters: VideoProvider[]) =>
        new ProviderRegistry(
          adapters.map((real) => {
            const fake = new FakeVendor(real);
            fakes.set(real.kind, fake);
            return fake;
          }),
        ),
      inject: VENDORS.map((v) => v.adapter),
    })
    .setLogger({ log() {}, warn() {}, debug() {}, verbose() {}, error: console.error })
    .compile();
  const app = await moduleRef.init();
  const ds = app.get(DataSource);
  const services: Services = {
    app,
    ds,
    vendor(kind) {
      const fake = fakes.get(kind);
      if (!fake) throw new Error(`No fake vendor for ${kind}`);
      return fake;
    },
    tenant: () => seedTenant(services),
    as(tenant, role) {
      const requestId = `svc-${randomBytes(6).toString('hex')}`;
      return new RequestContext(
        tenant.id,
        tenant.slug,
        ActorType.USER,
        tenant.owner.id,
        tenant.owner.email,
        tenant.owner.id,
        null,
        role,
        AuthMethod.BASIC_PASSWORD,
        false,
        requestId,
        '127.0.0.1',
        'service-tier',
      );
    },
    close: () => app.close(),
  };
  return services;
}

/** The DomainException `work` is refused with (the test fails if it succeeds or throws another). */
export async function rejection(work: Promise<unknown>): Promise<DomainException> {
  const err = await work.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(DomainException);
  return err as DomainException;
}
