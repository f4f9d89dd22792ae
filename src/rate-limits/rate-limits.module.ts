import { Global, Module } from '@nestjs/common';
import { TenantsModule } from '../tenants/tenants.module';
import { RateLimitAudit } from './rate-limit-audit.service';
import { RateLimitStorage } from './rate-limit.storage';
import { RateLimiter } from './rate-limiter.service';
import { Red5Admission } from './red5-admission';

/**
 * Rate limits: the throttler storage (in memory, or Redis with `REDIS_URL`), the limiter and the
 * audit summaries. Global: guards and services anywhere may check a limit. The guards themselves
 * are registered in AuthModule, in order around authentication.
 */
@Global()
@Module({
  imports: [TenantsModule],
  providers: [RateLimitStorage, RateLimitAudit, RateLimiter, Red5Admission],
  exports: [RateLimiter, RateLimitAudit, Red5Admission],
})
export class RateLimitsModule {}
