import { Inject, Injectable, OnApplicationShutdown, Optional } from '@nestjs/common';

import { LOGGER, METRICS } from '@signet/observability';
import type { Logger, SignetMetrics } from '@signet/observability';

import { AuditBuffer } from './audit-buffer';
import { type AuditEvent, type AuditEventInput, type AuditRecorder, completeEvent } from './audit-event';
import { AUDIT_REPOSITORY, type AuditRepository } from './audit.repository';
import { AUDIT_OPTIONS, type AuditOptions } from './options';

/**
 * Rows per INSERT. A batch is built, and on the embedded database also run, on the event loop: 100 rows keep
 * that to a millisecond or two (500 took 2–15 ms even as arrays), and a flush yields between batches.
 */
const BATCH = 100;

/**
 * The AuditRecorder of a process with a database: events go into a bounded
 * buffer and are written in multi-row INSERTs every `flushMs`, after the work
 * that reported them; the last ones are written when the module stops (before
 * the database closes).
 */
@Injectable()
export class BufferedAuditRecorder implements AuditRecorder, OnApplicationShutdown {
  private readonly buffer: AuditBuffer<AuditEvent>;
  private readonly logger: Logger;

  constructor(
    @Inject(AUDIT_REPOSITORY) repository: AuditRepository,
    @Inject(AUDIT_OPTIONS) options: AuditOptions,
    @Inject(LOGGER) logger: Logger,
    @Optional() @Inject(METRICS) metrics?: SignetMetrics,
  ) {
    this.logger = logger.child({ component: 'audit' });
    this.buffer = new AuditBuffer({
      write: (batch) => repository.insertMany(batch),
      capacity: options.bufferSize,
      batchSize: BATCH,
      flushMs: options.flushMs,
      logger: this.logger,
      registry: metrics?.registry,
      sink: 'database',
    });
  }

  record(event: AuditEventInput): void {
    try {
      this.buffer.push(completeEvent(event));
    } catch (err) {
      // Never the caller's problem.
      this.logger.warn({ err }, 'could not queue an audit event');
    }
  }

  recordMany(events: readonly AuditEventInput[]): void {
    for (const event of events) this.record(event);
  }

  /** Writes what is buffered now (tests, shutdown). */
  flush(): Promise<void> {
    return this.buffer.flush();
  }

  /** Last of the shutdown hooks: what the edge and the stream reader handed over while stopping is written too. */
  async onApplicationShutdown(): Promise<void> {
    await this.buffer.close();
  }
}
