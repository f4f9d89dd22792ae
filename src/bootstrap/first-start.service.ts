import { randomBytes } from 'node:crypto';
import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { APP_CONFIG, type AppConfig } from '../common/config';
import { systemActor } from '../audit/audit-actor';
import { TenantsService } from '../tenants/tenants.service';
import { User } from '../users/user.entity';
import { UsersService } from '../users/users.service';

/** Where the one-time sign-in banner goes (stdout by default; tests capture it). */
export const BANNER_OUT = Symbol('BANNER_OUT');
export type BannerOut = (text: string) => void;

const BOOTSTRAP_LOCK_KEY = 0x726b6273; // "rkbs"

export interface FirstStartResult {
  email: string;
  password: string;
  tenantSlug: string;
  generatedPassword: boolean;
}

/**
 * On an empty database, creates the platform administrator (OWNER of a demo tenant) and prints
 * once how to sign in. Serialised by an advisory lock so two instances starting together create
 * exactly one administrator.
 */
@Injectable()
export class FirstStartService implements OnApplicationBootstrap {
  private readonly logger = new Logger('FirstStart');

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @InjectDataSource() private readonly ds: DataSource,
    private readonly users: UsersService,
    private readonly tenants: TenantsService,
    @Inject(BANNER_OUT) private readonly out: BannerOut,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const created = await this.ensureAdmin();
    if (created) this.out(this.banner(created));
  }

  async ensureAdmin(): Promise<FirstStartResult | null> {
    const b = this.config.bootstrap;
    return this.ds.transaction(async (m) => {
      await m.query('SELECT pg_advisory_xact_lock($1)', [BOOTSTRAP_LOCK_KEY]);
      if ((await m.count(User)) > 0) return null;
      const password = b.adminPassword ?? randomBytes(18).toString('base64url');
      const admin = await this.users.create(
        {
          email: b.adminEmail,
          displayName: 'Roomkey administrator',
          password,
          isPlatformAdmin: true,
        },
        m,
      );
      await this.tenants.insertWithOwner(
        m,
        b.tenantSlug,
        'Demo',
        admin.id,
        systemActor('first-start'),
      );
      this.logger.log(`Created platform administrator ${admin.email} and tenant "${b.tenantSlug}"`);
      return {
        email: admin.email,
        password,
        tenantSlug: b.tenantSlug,
        generatedPassword: !b.adminPassword,
      };
    });
  }

  private banner(r: FirstStartResult): string {
    const { host, port } = this.config.app;
    const base = `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`;
    const pw = r.generatedPassword ? r.password : '(the value of ROOMKEY_BOOTSTRAP_ADMIN_PASSWORD)';
    return [
      '',
      '================ Roomkey first start ================',
      ` Platform administrator: ${r.email}`,
      ` Password:               ${pw}`,
      ` Tenant:                 ${r.tenantSlug} (you are its OWNER)`,
      r.generatedPassword ? ' This password is shown only now. Store it safely.' : '',
      ' Try it:',
      `   curl -s -u '${r.email}:${r.generatedPassword ? r.password : '<password>'}' \\`,
      `     -H 'content-type: application/json' ${base}/graphql \\`,
      `     -d '{"query":"{ me { tenant { slug } role } }"}'`,
      ` GraphQL IDE: ${base}/graphql`,
      '=====================================================',
      '',
    ]
      .filter((l) => l !== '')
      .join('\n')
      .concat('\n');
  }
}
