import { AccountsModule, accountsOptionsFrom, bootstrapWithSignupCode, signupCodeBanner } from '@signet/accounts';
import { ApiKeysModule, apiKeysOptionsFrom } from '@signet/api-keys';
import { AuditModule, auditOptionsFrom } from '@signet/audit';
import { loadConfig, SignetConfig } from '@signet/config';
import { revocationsRegistration, signingKeysRegistration } from '@signet/contracts';
import { DashboardModule, dashboardOptionsFrom } from '@signet/dashboard';
import { DirectoryModule } from '@signet/directory';
import { bannerFor, createSessionDirectory, openServiceState, runProcess, SignetProcess, startService } from '@signet/runtime';
import { LiveSessions, SessionsModule } from '@signet/sessions';
import { SigningKeysService, TokenRetentionModule, TokensModule, tokensOptionsFrom } from '@signet/tokens';

/**
 * The token service (PostgreSQL + Redis, shared with other services):
 *  - HTTP: the token API (`/v1/tokens…`, JWKS), health, metrics, OpenAPI;
 *  - gRPC `signet.keys.v1.SigningKeys`: the public signing keys edges verify `tkn_` with;
 *  - gRPC `signet.revocations.v1.Revocations`: the revocation log, which edges poll while Redis is down;
 *  - the retention job that deletes token data past retention.
 * ApiKeysModule is here for the API-key guard of the token API, not for `/v1/keys`.
 */
export function startTokenService(config: SignetConfig = loadConfig()): Promise<SignetProcess> {
  return runProcess('token-service', config, async (ctx, onClose) => {
    const { state, revocations } = await openServiceState(ctx, onClose);
    let signupCode: string | null = null;
    const service = await startService(state, {
      title: 'Signet token service',
      imports: [
        ApiKeysModule.forRoot(apiKeysOptionsFrom(config)),
        TokensModule.forRoot(tokensOptionsFrom(config)),
        // Only the token service prunes token data (one job per replica, serialised by an advisory lock).
        TokenRetentionModule,
        // POST /v1/tokens applies an org's directory (its users and group permissions) here too.
        DirectoryModule.gateOnly(),
        // Sign-in for people: the authorization server, and sessions accepted by the token API.
        AccountsModule.forRoot(accountsOptionsFrom(config)),
        // Live MQTT sessions of the edges on this Redis (none without Redis: no edge shares them).
        SessionsModule,
        // The audit log (GET /v1/audit, retention) and the reader of standalone edges' CONNECT decisions.
        AuditModule.forRoot(auditOptionsFrom(config)),
        // The web dashboard, signing in through this process's /oidc.
        DashboardModule.forRoot(dashboardOptionsFrom(config)),
      ],
      // The org and its key, and the first account's sign-up code shown beside the key.
      bootstrap: (app) => bootstrapWithSignupCode(app, (code) => (signupCode = code)),
      grpc: (app) => {
        const signingKeys = app.get(SigningKeysService);
        // Revocations too: the edges' second path while the bus is down.
        return [signingKeysRegistration(() => signingKeys.publicJwks()), revocationsRegistration((after, limit) => revocations.listSince(after, limit))];
      },
    });
    onClose(() => service.close());
    const registry = createSessionDirectory(ctx);
    if (registry) {
      onClose(() => registry.close());
      service.app.get(LiveSessions).use(registry);
    }
    const ports = { http: service.httpPort, grpc: service.grpcPort };
    return { banner: [...bannerFor(config, ports, service.bootstrap), ...signupCodeBanner(signupCode)], ports, service, bus: state.bus };
  });
}
