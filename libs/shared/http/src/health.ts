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

/** How long /readyz waits for one check before counting it as not ready. */
export const READINESS_TIMEOUT_MS = 2000;

/**
 * Components register what "ready" means for them (database reachable, bus
 * fresh, …). Each check has `timeoutMs` to answer: a dependency that hangs
 * makes /readyz say "not ready" in time, rather than hang the probe with it.
 */
@Injectable()
export class HealthRegistry {
  private readonly checks = new Map<string, ReadinessCheck>();
  timeoutMs = READINESS_TIMEOUT_MS;

  register(name: string, check: ReadinessCheck): void {
    this.checks.set(name, check);
  }

  async run(): Promise<{ ready: boolean; checks: Record<string, ReadinessResult> }> {
    const entries = await Promise.all(
      [...this.checks].map(async ([name, check]): Promise<[string, ReadinessResult]> => {
        let timer: NodeJS.Timeout | undefined;
        const late = new Promise<ReadinessResult>((resolve) => {
          timer = setTimeout(() => resolve({ ok: false, detail: `no answer within ${this.timeoutMs} ms` }), this.timeoutMs);
        });
        try {
          return [name, await Promise.race([Promise.resolve().then(check), late])];
        } catch (err) {
          return [name, { ok: false, detail: err instanceof Error ? err.message : String(err) }];
        } finally {
          clearTimeout(timer);
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
