import { randomBytes } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { APP_CONFIG, type AppConfig } from '../common/config';
import { systemActor } from '../audit/audit-actor';
import { TenantsService } from '../tenants/tenants.service';
import { User } from '../users/user.entity';
import { UsersService } from '../users/users.service';

/** Where the sign-in and ready banners go (stdout by default; tests capture them). */
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
 * exactly one administrator. Run by the start sequence (app.factory.ts) once the port is bound,
 * never during module init: a start that cannot listen must create nothing and print no password.
 * The banners go to the terminal (`out`), never to the JSON logs.
 */
@Injectable()
export class FirstStartService {
  private readonly logger = new Logger('FirstStart');

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @InjectDataSource() private readonly ds: DataSource,
    private readonly users: UsersService,
    private readonly tenants: TenantsService,
    @Inject(BANNER_OUT) private readonly out: BannerOut,
  ) {}

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

  /** Prints how to sign in as the administrator just created. */
  printBanner(created: FirstStartResult): void {
    this.out(this.banner(created));
  }

  /** The last thing a start prints: the first-start banner, or one line on a later start. */
  printReady(created: FirstStartResult | null): void {
    if (created) return this.printBanner(created);
    const base = this.baseUrl();
    const ide = this.config.app.graphqlIde ? ` (GraphQL IDE: ${base}/graphql)` : '';
    this.out(`Roomkey is ready on ${base}${ide}\n`);
  }

  private baseUrl(): string {
    const { host, port } = this.config.app;
    return `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`;
  }

  private banner(r: FirstStartResult): string {
    const base = this.baseUrl();
    const pw = r.generatedPassword ? r.password : '(the value of ROOMKEY_BOOTSTRAP_ADMIN_PASSWORD)';
    // The header itself only for a password shown here anyway; never rebuilt from the env's.
    const header = r.generatedPassword
      ? `Basic ${Buffer.from(`${r.email}:${r.password}`, 'utf8').toString('base64')}`
      : `Basic <base64 of ${r.email}:password>`;
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
      this.config.app.graphqlIde
        ? ` GraphQL IDE: ${base}/graphql — paste into its Headers tab:`
        : ' Authorization header for GraphQL clients:',
      `   {"Authorization": "${header}"}`,
      r.generatedPassword ? '' : `   (the base64: printf '%s' '${r.email}:<password>' | base64)`,
      '=====================================================',
      '',
    ]
      .filter((l) => l !== '')
      .join('\n')
      .concat('\n');
  }
}
