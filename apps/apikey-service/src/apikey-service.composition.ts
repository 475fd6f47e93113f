import { AccountsModule } from '@signet/accounts';
import { ApiKeysEdgeHandlers, ApiKeysModule, apiKeysOptionsFrom, ApiKeysServiceModule, BootstrapService } from '@signet/api-keys';
import { AuditModule, auditOptionsFrom } from '@signet/audit';
import { loadConfig, SignetConfig } from '@signet/config';
import { apiKeysRegistration } from '@signet/contracts';
import { bannerFor, openServiceState, runProcess, SignetProcess, startService } from '@signet/runtime';

/**
 * The API key service (PostgreSQL + Redis, shared with other services):
 *  - HTTP: `/v1/keys` (lifecycle, rotation, usage), health, metrics, OpenAPI;
 *  - gRPC `signet.keys.v1.ApiKeys` for edges: key verification, usage reports.
 */
export function startApiKeyService(config: SignetConfig = loadConfig()): Promise<SignetProcess> {
  return runProcess('apikey-service', config, async (ctx, onClose) => {
    const { state } = await openServiceState(ctx, onClose);
    const service = await startService(state, {
      title: 'Signet API key service',
      imports: [ApiKeysModule.forRoot(apiKeysOptionsFrom(config)), ApiKeysServiceModule, AuditModule.recorderOnly(auditOptionsFrom(config)), AccountsModule.sessionsOnly()],
      bootstrap: (app) => app.get(BootstrapService).ensureBootstrap(),
      grpc: (app) => [apiKeysRegistration(app.get(ApiKeysEdgeHandlers))],
    });
    onClose(() => service.close());
    const ports = { http: service.httpPort, grpc: service.grpcPort };
    return { banner: bannerFor(config, ports, service.bootstrap), ports, service, bus: state.bus };
  });
}
