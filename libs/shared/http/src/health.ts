import { Controller, Get, Header, Inject, Injectable, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';

import type { SignetMetrics } from '@signet/observability';
import { METRICS } from '@signet/observability';

export interface ReadinessResult {
  ok: boolean;
  detail?: string;
}
export type ReadinessCheck = () => Promise<ReadinessResult> | ReadinessResult;

/** Components register what "ready" means for them (database reachable, bus fresh, …). */
@Injectable()
export class HealthRegistry {
  private readonly checks = new Map<string, ReadinessCheck>();

  register(name: string, check: ReadinessCheck): void {
    this.checks.set(name, check);
  }

  async run(): Promise<{ ready: boolean; checks: Record<string, ReadinessResult> }> {
    const entries = await Promise.all(
      [...this.checks].map(async ([name, check]): Promise<[string, ReadinessResult]> => {
        try {
          return [name, await check()];
        } catch (err) {
          return [name, { ok: false, detail: err instanceof Error ? err.message : String(err) }];
        }
      }),
    );
    const checks = Object.fromEntries(entries);
    return { ready: entries.every(([, r]) => r.ok), checks };
  }
}

@ApiExcludeController()
@Controller()
export class HealthController {
  constructor(
    private readonly registry: HealthRegistry,
    @Inject(METRICS) private readonly metrics: SignetMetrics,
  ) {}

  /** Liveness: the process serves requests. */
  @Get('healthz')
  healthz(): { status: string } {
    return { status: 'ok' };
  }

  /** Readiness: every registered dependency answers. */
  @Get('readyz')
  async readyz(@Res() reply: FastifyReply): Promise<void> {
    const result = await this.registry.run();
    void reply.status(result.ready ? 200 : 503).send({ status: result.ready ? 'ready' : 'not_ready', ...result });
  }

  @Get('metrics')
  @Header('content-type', 'text/plain; version=0.0.4')
  metricsText(): Promise<string> {
    return this.metrics.text();
  }
}
