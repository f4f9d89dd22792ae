import { Controller, Get, HttpCode, Injectable, Res } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { type Response } from 'express';
import { DataSource } from 'typeorm';
import { Public } from '../common/auth/decorators';

/**
 * `started` is set once the start has finished (port bound, first administrator created), so a
 * load balancer sends nothing to an instance still starting; `draining` when shutdown begins, so
 * readiness fails before the server stops accepting requests.
 */
@Injectable()
export class LifecycleState {
  started = false;
  draining = false;
}

const READY_TIMEOUT_MS = 2000;

@Controller('health')
export class HealthController {
  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly state: LifecycleState,
  ) {}

  /** The process is up. Never depends on the database. */
  @Public()
  @Get('live')
  @HttpCode(200)
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  /** Ready to serve: started, not draining, and the database answers within two seconds. */
  @Public()
  @Get('ready')
  async ready(
    @Res({ passthrough: true }) res: Response,
  ): Promise<{ status: string; checks: Record<string, string> }> {
    if (!this.state.started || this.state.draining) {
      res.status(503);
      return {
        status: this.state.draining ? 'draining' : 'starting',
        checks: { database: 'skipped' },
      };
    }
    const database = await this.checkDatabase();
    if (database !== 'ok') res.status(503);
    return { status: database === 'ok' ? 'ok' : 'unavailable', checks: { database } };
  }

  private async checkDatabase(): Promise<string> {
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.ds.query('SELECT 1'),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error('timeout')), READY_TIMEOUT_MS);
        }),
      ]);
      return 'ok';
    } catch (err) {
      return (err as Error).message === 'timeout' ? 'timeout' : 'error';
    } finally {
      clearTimeout(timer);
    }
  }
}
