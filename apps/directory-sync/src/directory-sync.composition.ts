import { AccountsModule } from '@signet/accounts';
import { ApiKeysModule, apiKeysOptionsFrom, BootstrapService } from '@signet/api-keys';
import { AuditModule, auditOptionsFrom } from '@signet/audit';
import { loadConfig, SignetConfig } from '@signet/config';
import { ldapBindRegistration } from '@signet/contracts';
import { DirectoryModule, directoryOptionsFrom, LdapBindUseCase } from '@signet/directory';
import { bannerFor, openServiceState, runProcess, SignetProcess, startService } from '@signet/runtime';
import { TokensModule, tokensOptionsFrom } from '@signet/tokens';

/**
 * Directory sync (PostgreSQL + Redis, shared with other services): HTTP
 * `/scim/v2` (SCIM 2.0 for Okta, Entra ID…) and `/v1/directory`, health,
 * metrics, OpenAPI; gRPC `signet.directory.v1.LdapBind` for edges (the
 * chain's `ldap` step). Deprovisioning revokes through the token library,
 * whose RevocationPublisher reaches every edge over the shared bus.
 */
export function startDirectorySync(config: SignetConfig = loadConfig()): Promise<SignetProcess> {
  return runProcess('directory-sync', config, async (ctx, onClose) => {
    const { state } = await openServiceState(ctx, onClose);
    const service = await startService(state, {
      title: 'Signet directory sync',
      imports: [ApiKeysModule.forRoot(apiKeysOptionsFrom(config)), TokensModule.forRoot(tokensOptionsFrom(config)), DirectoryModule.forRoot(directoryOptionsFrom(config)), AuditModule.recorderOnly(auditOptionsFrom(config)), AccountsModule.sessionsOnly()],
      bootstrap: (app) => app.get(BootstrapService).ensureBootstrap(),
      grpc: (app) => [ldapBindRegistration(app.get(LdapBindUseCase))],
    });
    onClose(() => service.close());
    const ports = { http: service.httpPort, grpc: service.grpcPort };
    return { banner: bannerFor(config, ports, service.bootstrap), ports, service, bus: state.bus };
  });
}
