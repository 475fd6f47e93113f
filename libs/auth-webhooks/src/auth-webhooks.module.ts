import { DynamicModule, Global, Module } from '@nestjs/common';
import { Counter, Histogram } from 'prom-client';

import { ApiKeysModule } from '@signet/api-keys';
import { METRICS, type SignetMetrics } from '@signet/observability';

import { AUTH_WEBHOOK_REPOSITORY, TypeOrmAuthWebhookRepository } from './auth-webhook.repository';
import { AuthWebhooksEdgeHandlers } from './auth-webhooks.edge-handlers';
import { CERTIFICATE_REPOSITORY, TypeOrmCertificateRepository } from './certificates/certificate.repository';
import { AuthenticatorChainController, AuthWebhookController } from './http/auth-webhook.controller';
import { CertificateAuthorityController, CertificateSettingsController } from './http/certificate-authority.controller';
import { AUTH_WEBHOOKS_OPTIONS, AuthWebhooksOptions } from './options';
import { AuthWebhookChanges } from './org-changes';
import { DeleteWebhookUseCase } from './usecases/delete/delete.usecase';
import { GetChainUseCase } from './usecases/get-chain/get-chain.usecase';
import { GetWebhookUseCase } from './usecases/get/get.usecase';
import { RegisterWebhookUseCase } from './usecases/register/register.usecase';
import { RevokeWebhookUserUseCase } from './usecases/revoke-user/revoke-user.usecase';
import { RotateWebhookSecretUseCase } from './usecases/rotate-secret/rotate-secret.usecase';
import { SetChainUseCase } from './usecases/set-chain/set-chain.usecase';
import { CertificateRuleUseCase } from './usecases/certificate-rule/certificate-rule.usecase';
import { DeleteCaUseCase } from './usecases/delete-ca/delete-ca.usecase';
import { ImportCrlUseCase } from './usecases/import-crl/import-crl.usecase';
import { ListCasUseCase } from './usecases/list-cas/list-cas.usecase';
import { ListCertificatesUseCase } from './usecases/list-certificates/list-certificates.usecase';
import { RegisterCertificateUseCase } from './usecases/register-certificate/register-certificate.usecase';
import { RevokeCertificateUseCase } from './usecases/revoke-certificate/revoke-certificate.usecase';
import { UpdateCaUseCase } from './usecases/update-ca/update-ca.usecase';
import { UploadCaUseCase } from './usecases/upload-ca/upload-ca.usecase';
import { WebhookCallObserver, WebhookClient } from './webhook-client';

/**
 * Auth webhooks, the authenticator chain and client certificates (mTLS):
 * `/v1/auth-webhook`, `/v1/authenticator-chain`, `/v1/certificate-authorities`,
 * `/v1/certificate-settings`, and the handlers edges call. Wiring only;
 * register with {@link AuthWebhooksModule.forRoot}. Needs DATA_SOURCE, SECRET_BOX and RevocationPublisher.
 */
@Module({
  imports: [ApiKeysModule],
  controllers: [AuthWebhookController, AuthenticatorChainController, CertificateAuthorityController, CertificateSettingsController],
  providers: [
    { provide: AUTH_WEBHOOK_REPOSITORY, useClass: TypeOrmAuthWebhookRepository },
    { provide: CERTIFICATE_REPOSITORY, useClass: TypeOrmCertificateRepository },
    {
      provide: WebhookClient,
      inject: [AUTH_WEBHOOKS_OPTIONS, { token: METRICS, optional: true }],
      useFactory: (options: AuthWebhooksOptions, metrics?: SignetMetrics) => new WebhookClient(options, metrics ? webhookCallMetrics(metrics) : undefined),
    },
    AuthWebhookChanges,
    AuthWebhooksEdgeHandlers,
    RegisterWebhookUseCase,
    RotateWebhookSecretUseCase,
    DeleteWebhookUseCase,
    GetWebhookUseCase,
    GetChainUseCase,
    SetChainUseCase,
    RevokeWebhookUserUseCase,
    UploadCaUseCase,
    ListCasUseCase,
    UpdateCaUseCase,
    DeleteCaUseCase,
    ImportCrlUseCase,
    RegisterCertificateUseCase,
    ListCertificatesUseCase,
    RevokeCertificateUseCase,
    CertificateRuleUseCase,
  ],
  exports: [AuthWebhooksEdgeHandlers, AuthWebhookChanges],
})
export class AuthWebhooksModule {
  static forRoot(options: AuthWebhooksOptions): DynamicModule {
    return {
      module: AuthWebhooksOptionsModule,
      imports: [AuthWebhooksModule],
      providers: [{ provide: AUTH_WEBHOOKS_OPTIONS, useValue: options }],
      exports: [AUTH_WEBHOOKS_OPTIONS, AuthWebhooksModule],
    };
  }
}

@Global()
@Module({})
class AuthWebhooksOptionsModule {}

/** Each webhook call by outcome (allow, deny, ignore, or why there was no answer) and its duration. */
function webhookCallMetrics(metrics: SignetMetrics): WebhookCallObserver {
  const registers = [metrics.registry];
  const calls = new Counter({ name: 'signet_auth_webhook_calls_total', help: 'Auth webhook calls by outcome', labelNames: ['outcome'], registers });
  const seconds = new Histogram({
    name: 'signet_auth_webhook_call_seconds',
    help: 'Auth webhook call duration',
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers,
  });
  return ({ outcome, ms }) => {
    calls.inc({ outcome });
    seconds.observe(ms / 1000);
  };
}
