import { Global, Module } from '@nestjs/common';
import { HealthController, LifecycleState } from './health.controller';

@Global()
@Module({ controllers: [HealthController], providers: [LifecycleState], exports: [LifecycleState] })
export class HealthModule {}
