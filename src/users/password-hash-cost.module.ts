import { type DynamicModule, Global, Module } from '@nestjs/common';
import { PASSWORD_HASH_COST, type PasswordHashCost } from './password.service';

/** Provides a replacement Argon2id cost to PasswordService: imported by test apps only. */
@Global()
@Module({})
export class PasswordHashCostModule {
  static forRoot(cost: PasswordHashCost): DynamicModule {
    return {
      module: PasswordHashCostModule,
      providers: [{ provide: PASSWORD_HASH_COST, useValue: cost }],
      exports: [PASSWORD_HASH_COST],
    };
  }
}
