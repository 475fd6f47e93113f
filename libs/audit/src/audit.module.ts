import { DynamicModule, Global, INestApplicationContext, Module, Provider } from '@nestjs/common';

import { ApiKeysModule } from '@signet/api-keys';

import { AUDIT_RECORDER, type AuditRecorder, NO_AUDIT } from './audit-event';
import { BufferedAuditRecorder } from './audit-recorder';
import { AUDIT_REPOSITORY, TypeOrmAuditRepository } from './audit.repository';
import { AdminAuditHook } from './http/admin-audit.hook';
import { AuditController } from './http/audit.controller';
import { AUDIT_OPTIONS, type AuditOptions } from './options';
import { AuditRetentionJob } from './retention/audit-retention.job';
import { AuditStreamReader } from './stream/audit-stream.reader';
import { ExportAuditUseCase } from './usecases/export/export-audit.usecase';
import { ListAuditUseCase } from './usecases/list/list-audit.usecase';

/**
 * The audit log: GET /v1/audit and its export, the retention job, and the
 * reader of standalone edges' CONNECT decisions (Redis). Wiring only.
 * Register it with {@link AuditModule.forRoot} in the process that owns the
 * log (token service, all-in-one), and {@link AuditModule.recorderOnly} in
 * the other API services: both record every mutating `/v1` call
 * ({@link AdminAuditHook}) and give other features {@link AUDIT_RECORDER}.
 * Needs the global providers DATA_SOURCE and LOGGER (METRICS optional) and
 * ApiKeysModule.forRoot in the same app.
 */
@Module({
  imports: [ApiKeysModule],
  controllers: [AuditController],
  providers: [ListAuditUseCase, ExportAuditUseCase, AuditRetentionJob, AuditStreamReader],
})
export class AuditModule {
  static forRoot(options: AuditOptions): DynamicModule {
    return { module: AuditRecorderModule, imports: [AuditModule], providers: recorderProviders(options), exports: [...RECORDER_EXPORTS, AuditModule] };
  }

  /** The recorder and the HTTP hook, without the API or the jobs (services that do not own the log). */
  static recorderOnly(options: AuditOptions): DynamicModule {
    return { module: AuditRecorderModule, providers: recorderProviders(options), exports: RECORDER_EXPORTS };
  }
}

const RECORDER_EXPORTS = [AUDIT_RECORDER, AUDIT_OPTIONS, AUDIT_REPOSITORY];

const recorderProviders = (options: AuditOptions): Provider[] => [
  { provide: AUDIT_OPTIONS, useValue: options },
  { provide: AUDIT_REPOSITORY, useClass: TypeOrmAuditRepository },
  BufferedAuditRecorder,
  { provide: AUDIT_RECORDER, useExisting: BufferedAuditRecorder },
  AdminAuditHook,
];

/** Global: every feature can inject AUDIT_RECORDER without importing this library's module. */
@Global()
@Module({})
class AuditRecorderModule {}

/** The recorder of a started app, or one that records nothing when the audit feature is not composed in. */
export function auditRecorderOf(app: INestApplicationContext): AuditRecorder {
  try {
    return app.get<AuditRecorder>(AUDIT_RECORDER, { strict: false });
  } catch {
    return NO_AUDIT;
  }
}
