import { AccountsModule } from '@signet/accounts';
import { ApiKeysModule, apiKeysOptionsFrom, BootstrapService } from '@signet/api-keys';
import { AuditModule, auditOptionsFrom } from '@signet/audit';
import { AuthWebhookChanges, AuthWebhooksEdgeHandlers, AuthWebhooksModule, authWebhooksOptionsFrom } from '@signet/auth-webhooks';
import { loadConfig, SignetConfig } from '@signet/config';
import { authWebhooksRegistration } from '@signet/contracts';
import { bannerFor, createBus, openServiceState, runProcess, SignetProcess, startService } from '@signet/runtime';

/**
 * The auth-webhook service (PostgreSQL + Redis, shared with other services):
 *  - HTTP: `/v1/auth-webhook`, `/v1/authenticator-chain`, health, metrics, OpenAPI;
 *  - gRPC `signet.authwebhooks.v1.AuthWebhooks` for edges: org chains and
 *    CONNECTs decided by the org's webhook (signed calls, timeouts, breaker).
 * ApiKeysModule is here for the API-key guard of its routes.
 */
export function startAuthWebhooksService(config: SignetConfig = loadConfig()): Promise<SignetProcess> {
  return runProcess('auth-webhooks', config, async (ctx, onClose) => {
    const { state } = await openServiceState(ctx, onClose);
    const service = await startService(state, {
      title: 'Signet auth-webhook service',
      imports: [ApiKeysModule.forRoot(apiKeysOptionsFrom(config)), AuthWebhooksModule.forRoot(authWebhooksOptionsFrom(config)), AuditModule.recorderOnly(auditOptionsFrom(config)), AccountsModule.sessionsOnly()],
      bootstrap: (app) => app.get(BootstrapService).ensureBootstrap(),
      grpc: (app) => [authWebhooksRegistration(app.get(AuthWebhooksEdgeHandlers))],
    });
    onClose(() => service.close());
    if (config.redisUrl) {
      // Replicas cache webhook targets: a change made on another one reaches this one over the bus.
      const notices = createBus(ctx, 'subscriber');
      await notices.start();
      onClose(() => notices.close());
      const unfollow = service.app.get(AuthWebhookChanges).follow(notices);
      onClose(async () => unfollow());
    }
    const ports = { http: service.httpPort, grpc: service.grpcPort };
    return { banner: bannerFor(config, ports, service.bootstrap), ports, service, bus: state.bus };
  });
}
