import { AccountsModule, accountsOptionsFrom, bootstrapWithSignupCode, signupCodeBanner } from '@signet/accounts';
import { ApiKeysEdgeHandlers, ApiKeysModule, apiKeysOptionsFrom, ApiKeysServiceModule } from '@signet/api-keys';
import { AUDIT_RECORDER, AuditModule, auditOptionsFrom } from '@signet/audit';
import { AuthWebhookChanges, AuthWebhooksEdgeHandlers, AuthWebhooksModule, authWebhooksOptionsFrom } from '@signet/auth-webhooks';
import { loadConfig, SignetConfig } from '@signet/config';
import { apiKeysRegistration, revocationsRegistration, signingKeysRegistration } from '@signet/contracts';
import { DashboardModule, dashboardOptionsFrom } from '@signet/dashboard';
import { DirectoryModule, directoryOptionsFrom, LdapBindUseCase } from '@signet/directory';
import { FederationModule, federationOptionsFrom } from '@signet/federation';
import { HealthRegistry } from '@signet/http';
import { bannerFor, createSessionDirectory, openServiceState, runProcess, SignetProcess, startEdge, startService } from '@signet/runtime';
import { LiveSessions, SessionsModule } from '@signet/sessions';
import { SigningKeysService, TokenRetentionModule, TokensModule, tokensOptionsFrom } from '@signet/tokens';

/**
 * Everything in one process, on one bus (`npm start`):
 *  - HTTP: the token API, the key API (`/v1/keys`), IdP federation, directory sync (`/scim/v2`,
 *    `/v1/directory`), auth webhooks and the authenticator chain, sign-in for people (`/oidc`,
 *    `/v1/accounts`), health, metrics, OpenAPI;
 *  - gRPC `SigningKeys` and `ApiKeys` on one port, for edges started elsewhere;
 *  - the MQTT edge (TCP, WebSocket, and TLS/WSS when certificates are configured),
 *    reading public keys and key verdicts in-process.
 */
export function startAllInOne(config: SignetConfig = loadConfig()): Promise<SignetProcess> {
  return runProcess('signet', config, async (ctx, onClose) => {
    const { state, revocations } = await openServiceState(ctx, onClose);
    let signupCode: string | null = null;
    const service = await startService(state, {
      title: 'Signet',
      imports: [
        ApiKeysModule.forRoot(apiKeysOptionsFrom(config)),
        ApiKeysServiceModule,
        TokensModule.forRoot(tokensOptionsFrom(config)),
        TokenRetentionModule,
        FederationModule.forRoot(federationOptionsFrom(config)),
        DirectoryModule.forRoot(directoryOptionsFrom(config)),
        AuthWebhooksModule.forRoot(authWebhooksOptionsFrom(config)),
        AccountsModule.forRoot(accountsOptionsFrom(config)),
        SessionsModule,
        AuditModule.forRoot(auditOptionsFrom(config)),
        // The web dashboard, signing in through this process's /oidc.
        DashboardModule.forRoot(dashboardOptionsFrom(config)),
      ],
      // The org and its key, and the first account's sign-up code shown beside the key.
      bootstrap: (app) => bootstrapWithSignupCode(app, (code) => (signupCode = code)),
      // After the edge's listeners too: a start that fails on a taken MQTT port must not use up the bootstrap key.
      deferBootstrap: true,
      grpc: (app) => {
        const signingKeys = app.get(SigningKeysService);
        return [
          signingKeysRegistration(() => signingKeys.publicJwks()),
          apiKeysRegistration(app.get(ApiKeysEdgeHandlers)),
          // Standalone edges attached to this process poll it while Redis is down.
          revocationsRegistration((after, limit) => revocations.listSince(after, limit)),
        ];
      },
    });
    onClose(() => service.close());
    const signingKeys = service.app.get(SigningKeysService);
    const edge = await startEdge(ctx, {
      bus: state.bus,
      fetchJwks: () => signingKeys.publicJwks(),
      // The in-process bus starts empty: PostgreSQL knows what was revoked before.
      seed: () => revocations.listActive(Date.now()),
      // In-process: no gRPC hop between the edge and the key service.
      apiKeys: service.app.get(ApiKeysEdgeHandlers),
      // In-process too: org chains and webhook verdicts without a gRPC hop.
      webhooks: service.app.get(AuthWebhooksEdgeHandlers),
      // The chain's `ldap` step binds through the directory feature, in-process.
      ldapBinds: service.app.get(LdapBindUseCase),
      trust: service.app.get(AuthWebhooksEdgeHandlers),
      // In-process too: CONNECT decisions go straight into the audit log's buffer.
      audit: service.app.get(AUDIT_RECORDER),
    });
    onClose(() => edge.close());
    // Live sessions: every edge's on Redis, else this process's own edge.
    const registry = createSessionDirectory(ctx);
    if (registry) onClose(() => registry.close());
    service.app.get(LiveSessions).use(registry ?? edge.edge.sessions);
    const unwatch = service.app.get(AuthWebhookChanges).onChange((orgId) => edge.orgAuthChanged(orgId));
    onClose(async () => unwatch());
    service.app.get(HealthRegistry).register('mqtt_edge', () => ({ ok: !state.bus.health().stale }));
    const bootstrap = await service.completeBootstrap();
    const ports = {
      http: service.httpPort,
      mqtt: edge.mqttPort,
      ws: edge.wsPort,
      mqtts: edge.mqttsPort,
      wss: edge.wssPort,
      grpc: service.grpcPort,
    };
    return { banner: [...bannerFor(config, ports, bootstrap), ...signupCodeBanner(signupCode)], ports, service, edgeHandle: edge, bus: state.bus };
  });
}
