import { AccountsModule } from '@signet/accounts';
import { ApiKeysModule, apiKeysOptionsFrom, BootstrapService } from '@signet/api-keys';
import { AuditModule, auditOptionsFrom } from '@signet/audit';
import { loadConfig, SignetConfig } from '@signet/config';
import { DirectoryModule } from '@signet/directory';
import { FederationModule, federationOptionsFrom } from '@signet/federation';
import { bannerFor, openServiceState, runProcess, SignetProcess, startService } from '@signet/runtime';
import { TokensModule, tokensOptionsFrom } from '@signet/tokens';

/**
 * IdP federation (PostgreSQL + Redis, shared with other services): HTTP
 * `/v1/idp-providers` and `/v1/federation/exchange`, health, metrics, OpenAPI.
 * It issues tkn_ credentials itself (through the token library, with the
 * signing keys every token service shares in PostgreSQL), so it needs no gRPC.
 * An org's directory applies to the exchange as to POST /v1/tokens (the gate only).
 */
export function startIdpFederation(config: SignetConfig = loadConfig()): Promise<SignetProcess> {
  return runProcess('idp-federation', config, async (ctx, onClose) => {
    const { state } = await openServiceState(ctx, onClose);
    const service = await startService(state, {
      title: 'Signet IdP federation',
      imports: [
        ApiKeysModule.forRoot(apiKeysOptionsFrom(config)),
        TokensModule.forRoot(tokensOptionsFrom(config)),
        FederationModule.forRoot(federationOptionsFrom(config)),
        DirectoryModule.gateOnly(),
        AuditModule.recorderOnly(auditOptionsFrom(config)),
        // People's sessions on /v1, as on the token service.
        AccountsModule.sessionsOnly(),
      ],
      bootstrap: (app) => app.get(BootstrapService).ensureBootstrap(),
    });
    onClose(() => service.close());
    const ports = { http: service.httpPort };
    return { banner: bannerFor(config, ports, service.bootstrap), ports, service, bus: state.bus };
  });
}
