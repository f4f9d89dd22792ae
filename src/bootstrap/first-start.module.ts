import { type DynamicModule, Module } from '@nestjs/common';
import { TenantsModule } from '../tenants/tenants.module';
import { UsersModule } from '../users/users.module';
import { BANNER_OUT, type BannerOut, FirstStartService } from './first-start.service';

@Module({})
export class FirstStartModule {
  /** `out` receives the one-time sign-in banner (stdout by default). */
  static forRoot(out: BannerOut = (t) => process.stdout.write(t)): DynamicModule {
    return {
      module: FirstStartModule,
      imports: [UsersModule, TenantsModule],
      providers: [FirstStartService, { provide: BANNER_OUT, useValue: out }],
      exports: [FirstStartService],
    };
  }
}
