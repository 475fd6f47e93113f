import { ApiKeysModule } from '@signet/api-keys';
import { loadConfig, PORT_VARIABLES, SignetConfig } from '@signet/config';
import { createApiKeysClient, createSigningKeysClient } from '@signet/contracts';
import { FederationModule, federationOptionsFrom } from '@signet/federation';
import { createHttpApp, HealthRegistry, listenHttp } from '@signet/http';
import { createLogger, SignetMetrics } from '@signet/observability';
import { RevocationStore } from '@signet/persistence';
import type { RevocationBus } from '@signet/revocation';
import { TokensModule } from '@signet/tokens';

import { ApiKeyServiceHandle, startApiKeyService } from './api-key-service';
import { createBus, openState, ProcessContext } from './context';
import { EdgeHandle, startEdge } from './edge';
import { startService } from './service';
import { startTokenService, TokenServiceHandle } from './token-service';

/** A running Signet process, whatever its role. */
export interface SignetProcess {
  /** Lines for people: addresses, and the bootstrap key on a first start. */
  banner: string[];
  ports: { http?: number; mqtt?: number; ws?: number; mqtts?: number; wss?: number; grpc?: number | null };
  tokenService?: TokenServiceHandle;
  apiKeyService?: ApiKeyServiceHandle;
  edgeHandle?: EdgeHandle;
  bus: RevocationBus;
  close(): Promise<void>;
}

function processContext(name: string, config: SignetConfig): ProcessContext {
  return { config, logger: createLogger({ name, level: config.logLevel }), metrics: new SignetMetrics() };
}

const display = (host: string) => (host === '0.0.0.0' || host === '::' ? 'localhost' : host);

function bannerFor(config: SignetConfig, p: SignetProcess['ports'], bootstrap: TokenServiceHandle['bootstrap']): string[] {
  const host = display(config.host);
  const lines: string[] = [];
  if (p.http !== undefined) lines.push(`  HTTP API   http://${host}:${p.http}  (OpenAPI at /docs)`);
  if (p.mqtt !== undefined) lines.push(`  MQTT       mqtt://${host}:${p.mqtt}`);
  if (p.ws !== undefined) lines.push(`  WebSocket  ws://${host}:${p.ws}${config.wsPath}`);
  if (p.mqtts !== undefined) lines.push(`  MQTT/TLS   mqtts://${host}:${p.mqtts}  (certificate reloaded when its files change)`);
  if (p.wss !== undefined) lines.push(`  WSS        wss://${host}:${p.wss}${config.wsPath}`);
  if (p.grpc) lines.push(`  gRPC       ${host}:${p.grpc}  (internal)`);
  if (bootstrap) {
    lines.push('', `Bootstrap API key for ${bootstrap.orgId} (shown once; store it now):`, bootstrap.apiKey, '');
  }
  return lines;
}

type OnClose = (step: () => Promise<void>) => void;
type Started = Omit<SignetProcess, 'close'>;

/**
 * Starts a process: `body` opens resources in order and registers how to
 * close each; `close()` undoes them last first, carrying on past a failing
 * step, and a start that fails half-way undoes what it had opened.
 */
async function runProcess(
  name: string,
  config: SignetConfig,
  body: (ctx: ProcessContext, onClose: OnClose) => Promise<Started>,
): Promise<SignetProcess> {
  const ctx = processContext(name, config);
  const steps: (() => Promise<void>)[] = [];
  const closeAll = async () => {
    for (const step of steps.splice(0).reverse()) {
      try {
        await step();
      } catch (err) {
        ctx.logger.error({ err }, 'error while stopping');
      }
    }
  };
  try {
    return { ...(await body(ctx, (step) => steps.push(step))), close: closeAll };
  } catch (err) {
    await closeAll();
    throw err;
  }
}

/** Database, secret box and a bus that can rebuild Redis's deny state from PostgreSQL. */
async function openServiceState(ctx: ProcessContext, onClose: OnClose) {
  const state = await openState(ctx);
  onClose(() => state.database.close());
  const revocations = new RevocationStore(state.database.dataSource);
  const bus = createBus(ctx, 'both', revocations);
  await bus.start();
  onClose(() => bus.close());
  return { state: { ...state, bus }, bus, revocations };
}

/** Everything in one process: token API, key service, gRPC, MQTT edge. `npm start`. */
export function startAllInOne(config: SignetConfig = loadConfig()): Promise<SignetProcess> {
  return runProcess('signet', config, async (ctx, onClose) => {
    const { state, bus, revocations } = await openServiceState(ctx, onClose);
    const tokenService = await startTokenService(state, { title: 'Signet', keyService: true, federation: true });
    onClose(() => tokenService.close());
    const edge = await startEdge(ctx, {
      bus,
      fetchJwks: () => tokenService.signingKeys.publicJwks(),
      // The in-process bus starts empty: PostgreSQL knows what was revoked before.
      seed: () => revocations.listActive(Date.now()),
      // In-process: no gRPC hop between the edge and the key service.
      apiKeys: tokenService.keyHandlers ?? undefined,
    });
    onClose(() => edge.close());
    tokenService.app.get(HealthRegistry).register('mqtt_edge', () => ({ ok: !bus.health().stale }));
    const ports = {
      http: tokenService.httpPort,
      mqtt: edge.mqttPort,
      ws: edge.wsPort,
      mqtts: edge.mqttsPort,
      wss: edge.wssPort,
      grpc: tokenService.grpcPort,
    };
    return { banner: bannerFor(config, ports, tokenService.bootstrap), ports, tokenService, edgeHandle: edge, bus };
  });
}

/** The token service alone (PostgreSQL + Redis, shared with other services). */
export function startTokenServiceProcess(config: SignetConfig = loadConfig()): Promise<SignetProcess> {
  return runProcess('token-service', config, async (ctx, onClose) => {
    const { state, bus } = await openServiceState(ctx, onClose);
    const tokenService = await startTokenService(state);
    onClose(() => tokenService.close());
    const ports = { http: tokenService.httpPort, grpc: tokenService.grpcPort };
    return { banner: bannerFor(config, ports, tokenService.bootstrap), ports, tokenService, bus };
  });
}

/** The API key service alone (PostgreSQL + Redis, shared with other services): /v1/keys and gRPC ApiKeys. */
export function startApiKeyServiceProcess(config: SignetConfig = loadConfig()): Promise<SignetProcess> {
  return runProcess('apikey-service', config, async (ctx, onClose) => {
    const { state, bus } = await openServiceState(ctx, onClose);
    const apiKeyService = await startApiKeyService(state);
    onClose(() => apiKeyService.close());
    const ports = { http: apiKeyService.httpPort, grpc: apiKeyService.grpcPort };
    return { banner: bannerFor(config, ports, apiKeyService.bootstrap), ports, apiKeyService, bus };
  });
}

/**
 * IdP federation alone: /v1/idp-providers and /v1/federation/exchange. It
 * issues tkn_ credentials itself (through the token library, with the signing
 * keys every token service shares in PostgreSQL), so it needs no gRPC.
 */
export function startIdpFederationProcess(config: SignetConfig = loadConfig()): Promise<SignetProcess> {
  return runProcess('idp-federation', config, async (ctx, onClose) => {
    const { state, bus } = await openServiceState(ctx, onClose);
    const service = await startService(state, {
      title: 'Signet IdP federation',
      imports: [ApiKeysModule, TokensModule, FederationModule.forRoot(federationOptionsFrom(config))],
    });
    onClose(() => service.close());
    const ports = { http: service.httpPort };
    return { banner: bannerFor(config, ports, service.bootstrap), ports, bus };
  });
}

/**
 * An MQTT edge alone: no database. Public keys come from the token service
 * and key verdicts from the API key service over gRPC (usage is reported
 * back the same way), revocations over Redis; HTTP serves only health and metrics.
 */
export function startEdgeProcess(config: SignetConfig = loadConfig()): Promise<SignetProcess> {
  return runProcess('mqtt-edge', config, async (ctx, onClose) => {
    const keysClient = createSigningKeysClient(config.edge.tokenServiceGrpc);
    onClose(async () => keysClient.close());
    const apiKeysClient = createApiKeysClient(config.edge.apiKeyServiceGrpc, { timeoutMs: 3000 });
    onClose(async () => apiKeysClient.close());
    const bus = createBus(ctx, 'subscriber');
    await bus.start();
    onClose(() => bus.close());
    const edge = await startEdge(ctx, { bus, fetchJwks: () => keysClient.listPublicKeys(2000), apiKeys: apiKeysClient });
    onClose(() => edge.close());
    const app = await createHttpApp({ title: 'Signet MQTT edge', logger: ctx.logger, metrics: ctx.metrics, providers: [], imports: [] });
    await app.init();
    onClose(() => app.close());
    const health = app.get(HealthRegistry);
    health.register('revocation_bus', () => {
      const h = bus.health();
      return { ok: !h.stale, detail: h.stale ? 'revocation state is stale: credentials are refused' : undefined };
    });
    health.register('signing_keys', () => ({ ok: edge.keys.size > 0 }));
    const http = await listenHttp(app, config.ports.http, config.host, PORT_VARIABLES.http);
    const ports = { http, mqtt: edge.mqttPort, ws: edge.wsPort, mqtts: edge.mqttsPort, wss: edge.wssPort };
    return { banner: bannerFor(config, ports, null), ports, edgeHandle: edge, bus };
  });
}
