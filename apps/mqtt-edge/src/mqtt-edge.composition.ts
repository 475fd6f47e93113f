import { RedisAuditRecorder } from '@signet/audit';
import { loadConfig, PORT_VARIABLES, SignetConfig } from '@signet/config';
import { createApiKeysClient, createAuthWebhooksClient, createLdapBindClient, createRevocationsClient, createSigningKeysClient } from '@signet/contracts';
import { createHttpApp, HealthRegistry, listenHttp } from '@signet/http';
import { FallbackRevocationBus } from '@signet/revocation';
import { bannerFor, createBus, runProcess, SignetProcess, startEdge } from '@signet/runtime';

/**
 * An MQTT edge alone, with no database:
 *  - MQTT over TCP and WebSocket (and TLS/WSS when certificates are configured);
 *  - public keys from the token service and key verdicts from the API key service
 *    over gRPC (usage is reported back the same way);
 *  - revocations over Redis, and from the token service over gRPC while Redis is
 *    not in sync (or not configured): the second path;
 *  - org authenticator chains, webhook verdicts and client-certificate trust from
 *    the auth-webhook service over gRPC when SIGNET_AUTH_WEBHOOKS_GRPC is set;
 *  - the chain's `ldap` step from the directory-sync service over gRPC when
 *    SIGNET_DIRECTORY_GRPC is set (verdicts cached here, not asked per CONNECT);
 *  - HTTP only for `/healthz`, `/readyz` and `/metrics`.
 */
export function startMqttEdge(config: SignetConfig = loadConfig()): Promise<SignetProcess> {
  return runProcess('mqtt-edge', config, async (ctx, onClose) => {
    const keysClient = createSigningKeysClient(config.edge.tokenServiceGrpc);
    onClose(async () => keysClient.close());
    const apiKeysClient = createApiKeysClient(config.edge.apiKeyServiceGrpc, { timeoutMs: 3000 });
    onClose(async () => apiKeysClient.close());
    // Only when an auth-webhook service is named: without it, every org has the default chain.
    const webhooksAddress = config.authWebhooks.serviceGrpc;
    const webhooksClient = webhooksAddress
      ? createAuthWebhooksClient(webhooksAddress, { timeoutMs: Math.max(100, config.edge.limits.connectTimeoutMs - 200) })
      : undefined;
    if (webhooksClient) onClose(async () => webhooksClient.close());
    const directoryAddress = config.directory.serviceGrpc;
    // A bind is a round trip to the org's directory: the same CONNECT budget as a webhook.
    const ldapClient = directoryAddress ? createLdapBindClient(directoryAddress, { timeoutMs: Math.max(100, config.edge.limits.connectTimeoutMs - 200) }) : undefined;
    if (ldapClient) onClose(async () => ldapClient.close());
    const revocationsClient = createRevocationsClient(config.edge.tokenServiceGrpc);
    onClose(async () => revocationsClient.close());
    const bus = new FallbackRevocationBus({
      // Without Redis nothing publishes to an in-process bus here: the token service is the only path.
      primary: config.redisUrl ? createBus(ctx, 'subscriber') : undefined,
      feed: { list: (after, limit) => revocationsClient.listRevocations(after, limit) },
      maxStalenessMs: config.edge.maxStalenessMs,
      logger: ctx.logger.child({ component: 'revocation-feed' }),
    });
    await bus.start();
    onClose(() => bus.close());
    // CONNECT decisions reach the audit log through a Redis stream the token service reads (docs/audit.md); no Redis: not audited.
    const audit = config.redisUrl
      ? new RedisAuditRecorder({ url: config.redisUrl, keyPrefix: config.redisKeyPrefix, flushMs: config.audit.flushMs, capacity: config.audit.bufferSize, logger: ctx.logger.child({ component: 'audit' }), registry: ctx.metrics.registry })
      : undefined;
    if (audit) onClose(() => audit.close());
    const edge = await startEdge(ctx, {
      bus,
      fetchJwks: () => keysClient.listPublicKeys(2000),
      apiKeys: apiKeysClient,
      ...(webhooksClient ? { webhooks: webhooksClient, trust: webhooksClient } : {}),
      ...(audit ? { audit } : {}),
      ...(ldapClient ? { ldapBinds: ldapClient } : {}),
    });
    onClose(() => edge.close());
    const app = await createHttpApp({ title: 'Signet MQTT edge', logger: ctx.logger, metrics: ctx.metrics, providers: [], imports: [] });
    await app.init();
    onClose(() => app.close());
    const health = app.get(HealthRegistry);
    health.register('revocation_bus', () => {
      const h = bus.health();
      return { ok: !h.stale, detail: h.stale ? 'revocation state is stale: credentials are refused' : undefined };
    });
    health.register('signing_keys', () =>
      edge.keys.size > 0 ? { ok: true } : { ok: false, detail: `no public keys yet from the token service at ${config.edge.tokenServiceGrpc}` },
    );
    const http = await listenHttp(app, config.ports.http, config.host, PORT_VARIABLES.http);
    const ports = { http, mqtt: edge.mqttPort, ws: edge.wsPort, mqtts: edge.mqttsPort, wss: edge.wssPort };
    return { banner: bannerFor(config, ports, null), ports, edgeHandle: edge, bus, readiness: () => health.run() };
  });
}
