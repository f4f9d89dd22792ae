import { Global, Module } from '@nestjs/common';
import { KeyStore } from './key-store';

@Global()
@Module({ providers: [KeyStore], exports: [KeyStore] })
export class KeysModule {}
