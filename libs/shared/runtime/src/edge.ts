import { type AuditRecorder, ConnectAuditSampler, type ConnectDecision } from '@signet/audit';
import { explainListenError, PORT_VARIABLES } from '@signet/config';
import type { ApiKeyVerifier, LdapBinder, TrustStoreSource, UsageSink, WebhookAuthorizer } from '@signet/contracts';
import { UsageAggregator } from '@signet/contracts';
import {
  AuthenticatorChain,
  CertificateStep,
  type ChainDecision,
  type ChainStep,
  type ChainStepName,
  credentialStep,
  EdgeRevocationSubscriber,
  FailedConnectThrottle,
  isApiKeyPassword,
  isTokenPassword,
  KeyAuthenticator,
  LdapBindStep,
  orgsOfAuthConfigChange,
  PublicKeyCache,
  TokenAuthenticator,
  WebhookStep,
} from '@signet/mqtt-auth';
import type { ClusterBus } from '@signet/mqtt-cluster';
import { CONNACK_CODES, MqttEdge, Principal } from '@signet/mqtt-edge';
import { DenyList, RevocationBus, RevocationEvent } from '@signet/revocation';

import { createClusterBus, type JwksFetcher, type ProcessContext } from './context';

export interface EdgeHandle {
  edge: MqttEdge;
  mqttPort: number;
  wsPort: number;
  /** Bound only when TLS files are configured (SIGNET_TLS_CERT, SIGNET_TLS_KEY). */
  mqttsPort?: number;
  wssPort?: number;
  keys: PublicKeyCache;
  denyList: DenyList;
  /** sk_/rk_ verification with its verdict cache; null when the edge takes tokens only. */
  keyAuth: KeyAuthenticator | null;
  /** The per-org authenticator chain every CONNECT goes through. */
  authChain: AuthenticatorChain;
  /** The auth-webhook step and its verdict cache; null when no auth-webhook service is wired. */
  webhookStep: WebhookStep | null;
  /** The client-certificate step and the trust snapshot it holds. */
  certificateStep: CertificateStep;
  /** Reads the trust snapshot again and applies it to the TLS listeners (coalesced). */
  refreshTrust(): Promise<void>;
  /** An org's webhook, chain or certificate trust changed: drop what this edge cached about it. */
  orgAuthChanged(orgId: string): void;
  /** Sends the usage counted so far to the key service (also done periodically and on close). */
  reportUsage(): Promise<void>;
  /** Stops listening and closes sessions; the bus is closed by its owner. */
  close(): Promise<void>;
}

async function listenNamed<T>(listen: () => Promise<T>, variable: string, port: number, host: string): Promise<T> {
  try {
    return await listen();
  } catch (err) {
    throw explainListenError(err, variable, port, host);
  }
}

export interface EdgeSources {
  bus: RevocationBus;
  fetchJwks: JwksFetcher;
  /** Revocations known before the bus delivers any (the all-in-one reads them from its database). */
  seed?: () => Promise<RevocationEvent[]>;
  /** The API key service (in-process or gRPC): verifies sk_/rk_ keys and receives their usage. */
  apiKeys?: ApiKeyVerifier & UsageSink;
  /** The auth-webhook service (in-process or gRPC): org chains and webhook verdicts. */
  webhooks?: WebhookAuthorizer;
  /** The directory's LDAP bind (in-process or gRPC): the org chains' `ldap` step. */
  ldapBinds?: LdapBinder;
  /** Every org's client-certificate trust (the auth-webhook service); absent: no client certificate is accepted. */
  trust?: TrustStoreSource;
  /** The bus shared with other edges; by default createClusterBus (Redis when REDIS_URL is set). The edge closes it. */
  cluster?: ClusterBus;
  /** Where CONNECT decisions are audited (sampled under floods): the log in-process, or a Redis stream; absent: not audited. */
  audit?: AuditRecorder;
}

/**
 * The MQTT edge of a process: tkn_ credentials checked locally against the
 * token service's public keys and the in-memory deny list, which the
 * revocation bus keeps current. A revocation closes the live sessions of the
 * credentials it names at once and refuses them from then on.
 */
/** How often an edge reads the trust snapshot besides when told of a change (the chain's cache period too). */
const TRUST_REFRESH_MS = 30_000;
const ACCEPTED = { result: 'accepted' } as const;

export async function startEdge(ctx: ProcessContext, { bus, fetchJwks, seed, apiKeys, webhooks, ldapBinds, trust, cluster, audit }: EdgeSources): Promise<EdgeHandle> {
  const { config, logger, metrics } = ctx;
  const log = logger.child({ component: 'mqtt-edge' });
  const keys = new PublicKeyCache(fetchJwks, { logger: log });
  await keys.refresh();
  const denyList = new DenyList();
  for (const event of seed ? await seed() : []) denyList.add(event);
  const isFresh = () => !bus.health().stale;
  const tokenAuth = new TokenAuthenticator({ keys, revoked: denyList, isFresh, maxTokenLifetimeSeconds: config.tokens.maxTtlSeconds });
  // Usage of API keys on MQTT: counted here (a Map increment), sent to the key service every usageFlushMs.
  const usage = new UsageAggregator();
  const keyAuth = apiKeys
    ? new KeyAuthenticator({
        verifier: apiKeys,
        revoked: denyList,
        isFresh,
        maxCacheMs: config.apiKeys.verdictTtlMs,
        count: (keyId, counter) => usage.record(keyId, counter),
      })
    : null;
  const webhookStep = webhooks
    ? new WebhookStep({
        authorizer: webhooks,
        edgeId: config.edge.id,
        maxAllowCacheMs: config.authWebhooks.maxCacheSeconds * 1000,
        maxDenyCacheMs: config.authWebhooks.denyCacheSeconds * 1000,
      })
    : null;
  const steps: ChainStep[] = [credentialStep('token', tokenAuth, isTokenPassword, true)];
  if (keyAuth) steps.push(credentialStep('api_key', keyAuth, isApiKeyPassword));
  if (webhookStep) steps.push(webhookStep);
  const ldapStep = ldapBinds ? new LdapBindStep({ binder: ldapBinds, allowCacheMs: config.directory.ldapBindCacheSeconds * 1000 }) : null;
  if (ldapStep) steps.push(ldapStep);
  const certificateStep = new CertificateStep({ revoked: denyList });
  steps.push(certificateStep);
  const sampler = audit
    ? new ConnectAuditSampler({
        edgeId: config.edge.id,
        perAddress: config.audit.authPerAddress,
        windowMs: config.audit.authWindowMs,
        emit: (event) => audit.record(event),
        registry: metrics.registry,
      })
    : null;
  const authenticator = new AuthenticatorChain({
    steps,
    throttle: new FailedConnectThrottle({ maxFailures: config.authChain.failuresPerIp, windowMs: config.authChain.failureWindowMs }),
    ...(webhooks ? { source: { chainFor: (orgId: string) => webhooks.chainFor(orgId) as Promise<ChainStepName[] | null> } } : {}),
    decided: (decision) => {
      const { orgId, step, result } = decision;
      const outcome = result.ok ? 'allow' : result.reason;
      metrics.mqttAuthDecisions.inc(`${step} ${outcome}`, () => ({ step, result: outcome }));
      // The object is not built per CONNECT unless it is logged.
      if (log.isLevelEnabled('debug')) log.debug({ org: orgId, step, result: outcome, detail: result.ok ? undefined : result.detail }, 'CONNECT decided');
      sampler?.record(connectDecision(decision));
    },
    sourceFailed: (orgId, err) => log.warn({ org: orgId, err }, 'could not read the authenticator chain; default steps only, 0x88 beyond them'),
    orgOf: (request) => certificateStep.orgOf(request),
  });
  // One read at a time; changes announced meanwhile are folded into one more read.
  let trustRead: Promise<void> | null = null;
  let trustAgain = false;
  const readTrust = async (): Promise<void> => {
    if (!trust) return;
    do {
      trustAgain = false;
      try {
        if (certificateStep.load(await trust.trustStore())) {
          edge.setClientCertificateAuthorities(certificateStep.authorities);
          log.info({ version: certificateStep.snapshotVersion, authorities: certificateStep.authorities.length }, 'client certificate trust applied');
        }
      } catch (err) {
        log.warn({ err }, 'could not read or apply the client certificate trust; keeping the current one');
      }
    } while (trustAgain);
  };
  const refreshTrust = (): Promise<void> => {
    if (trustRead) {
      trustAgain = true;
      return trustRead;
    }
    trustRead = readTrust().finally(() => (trustRead = null));
    return trustRead;
  };
  const orgAuthChanged = (orgId: string) => {
    authenticator.invalidate([orgId]);
    webhookStep?.purgeOrgs([orgId]);
    ldapStep?.invalidate([orgId]);
    void refreshTrust();
  };
  const countDenial = (principal: Principal) => {
    if (principal.kind === 'api_key') usage.record(principal.credentialId, 'denials');
  };
  const edge = new MqttEdge({
    authenticator,
    logger: log,
    limits: config.edge.limits,
    revoked: denyList,
    cluster: cluster ?? createClusterBus(ctx),
    hooks: {
      connectAccepted: ({ principal }) => {
        metrics.mqttConnects.inc('accepted', ACCEPTED);
        if (principal.kind === 'api_key') usage.record(principal.credentialId, 'mqttConnects');
      },
      connectRefused: ({ reason }) => metrics.mqttConnects.inc(reason, () => ({ result: reason })),
      publishDenied: ({ principal }) => {
        metrics.mqttDenials.inc({ action: 'publish' });
        countDenial(principal);
      },
      subscribeDenied: ({ principal }) => {
        metrics.mqttDenials.inc({ action: 'subscribe' });
        countDenial(principal);
      },
      ...(keyAuth
        ? {
            published: (principal: Principal, bytes: number) => {
              if (principal.kind !== 'api_key') return;
              usage.record(principal.credentialId, 'messagesPublished');
              usage.record(principal.credentialId, 'bytesPublished', bytes);
            },
          }
        : {}),
    },
  });
  let reporting: Promise<void> = Promise.resolve();
  const reportUsage = (): Promise<void> => {
    reporting = reporting.then(async () => {
      if (!apiKeys || usage.size === 0) return;
      const deltas = usage.drain();
      try {
        await apiKeys.reportUsage(deltas);
      } catch (err) {
        // Kept for the next report: a key service restart loses no counts.
        usage.restore(deltas);
        log.warn({ err, buckets: deltas.length }, 'could not report API key usage; will retry');
      }
    });
    return reporting;
  };
  const reportTimer = setInterval(() => void reportUsage(), config.apiKeys.usageFlushMs);
  reportTimer.unref();
  await refreshTrust();
  const trustTimer = setInterval(() => void refreshTrust(), TRUST_REFRESH_MS);
  trustTimer.unref();
  // A revocation naming a certificate, a serial or a CA closes the sessions they cover.
  const sessions = { revoke: (ids: readonly string[]) => edge.revoke(certificateStep.expand(ids)) };
  const unsubscribe = new EdgeRevocationSubscriber({ bus, denyList, sessions, verdictCaches: [...(keyAuth ? [keyAuth] : []), ...(webhookStep ? [webhookStep] : []), ...(ldapStep ? [ldapStep] : [])], metrics, logger: log }).connect();
  // Chain, webhook and certificate changes travel the revocation path too (AUTH_CONFIG_CHANGED).
  const unsubscribeChanges = bus.subscribe((event) => {
    for (const orgId of orgsOfAuthConfigChange(event.credentialIds)) orgAuthChanged(orgId);
  });

  const stop = async () => {
    unsubscribe();
    unsubscribeChanges();
    clearInterval(trustTimer);
    clearInterval(reportTimer);
    await edge.close();
    // The aggregated rows of the current window.
    sampler?.close();
    // A clean stop hands over what was counted since the last report.
    await reportUsage();
  };
  const host = config.host;
  const listen = (variable: string, port: number, start: () => Promise<{ port: number }>) =>
    listenNamed(start, variable, port, host).then((bound) => bound.port);
  let mqttPort: number;
  let wsPort: number;
  let mqttsPort: number | undefined;
  let wssPort: number | undefined;
  try {
    mqttPort = await listen(PORT_VARIABLES.mqtt, config.ports.mqtt, () => edge.listenTcp(config.ports.mqtt, host));
    wsPort = await listen(PORT_VARIABLES.ws, config.ports.ws, () => edge.listenWebSocket(config.ports.ws, host, config.wsPath));
    const files = config.tls;
    if (files) {
      mqttsPort = await listen(PORT_VARIABLES.mqtts, config.ports.mqtts, () => edge.listenTls(config.ports.mqtts, host, files));
      wssPort = await listen(PORT_VARIABLES.wss, config.ports.wss, () =>
        edge.listenWebSocketTls(config.ports.wss, host, config.wsPath, files),
      );
    }
  } catch (err) {
    // The listeners already open would keep the process alive after a failed start.
    await stop();
    throw err;
  }
  return {
    edge,
    mqttPort,
    wsPort,
    mqttsPort,
    wssPort,
    keys,
    denyList,
    keyAuth,
    authChain: authenticator,
    webhookStep,
    certificateStep,
    refreshTrust,
    orgAuthChanged,
    reportUsage,
    close: stop,
  };
}

/** A chain decision as the audit log takes it: ids and codes, never the password. Built per CONNECT, so without spreads. */
function connectDecision({ orgId, step, result, request, durationMs }: ChainDecision): ConnectDecision {
  const refusal = result.ok ? null : CONNACK_CODES[result.reason];
  const decision: ConnectDecision = {
    orgId: result.ok ? result.principal.orgId : orgId,
    username: request.username,
    clientId: request.clientId,
    address: request.remoteAddress,
    protocolVersion: request.protocolVersion,
    step,
    ok: result.ok,
    reason: result.ok ? 'success' : result.reason,
    connack: refusal === null ? 0 : request.protocolVersion === 5 ? refusal.v5 : refusal.v4,
    durationMs,
  };
  if (request.transport) decision.transport = request.transport;
  if (result.ok) {
    decision.credentialKind = result.principal.kind;
    decision.credentialId = result.principal.credentialId;
    decision.subject = result.principal.subject;
  }
  return decision;
}


