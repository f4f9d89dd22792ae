import { Controller, Get, Header } from '@nestjs/common';
import { type JWK } from 'jose';
import { Public } from '../common/auth/decorators';
import { SigningKeysService } from './tokens/signing-keys.service';

@Controller('.well-known')
export class JwksController {
  constructor(private readonly keys: SigningKeysService) {}

  /** Public keys that verify Roomkey access tokens (current and recently retired). */
  @Public()
  @Get('jwks.json')
  @Header('Cache-Control', 'public, max-age=300')
  jwks(): Promise<{ keys: JWK[] }> {
    return this.keys.jwks();
  }
}
