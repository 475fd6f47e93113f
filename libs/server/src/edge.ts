import { explainListenError, PORT_VARIABLES } from '@signet/config';
import { PublicKeyCache, TokenAuthenticator } from '@signet/mqtt-auth';
import { MqttEdge } from '@signet/mqtt-edge';
import { DenyList, RevocationBus, RevocationEvent } from '@signet/revocation';

import type { JwksFetcher, ProcessContext } from './context';

export interface EdgeHandle {
  edge: MqttEdge;
  mqttPort: number;
  wsPort: number;
  keys: PublicKeyCache;
  denyList: DenyList;
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

/**
 * The MQTT edge of a process: tkn_ credentials checked locally against the
 * token service's public keys and the in-memory deny list, which the
 * revocation bus keeps current. A revocation closes the live sessions of the
 * credentials it names at once and refuses them from then on.
 */
export interface EdgeSources {
  bus: RevocationBus;
  fetchJwks: JwksFetcher;
  /** Revocations known before the bus delivers any (the all-in-one reads them from its database). */
  seed?: () => Promise<RevocationEvent[]>;
}

export async function startEdge(ctx: ProcessContext, { bus, fetchJwks, seed }: EdgeSources): Promise<EdgeHandle> {
  const { config, logger, metrics } = ctx;
  const log = logger.child({ component: 'mqtt-edge' });
  const keys = new PublicKeyCache(fetchJwks, { logger: log });
  await keys.refresh();
  const denyList = new DenyList();
  for (const event of seed ? await seed() : []) denyList.add(event);
  const authenticator = new TokenAuthenticator({
    keys,
    revoked: denyList,
    isFresh: () => !bus.health().stale,
  });
  const edge = new MqttEdge({
    authenticator,
    logger: log,
    limits: { maxPacketSize: config.edge.maxPacketSize, connectTimeoutMs: config.edge.connectTimeoutMs },
    hooks: {
      connectAccepted: () => metrics.mqttConnects.inc({ result: 'accepted' }),
      connectRefused: ({ reason }) => metrics.mqttConnects.inc({ result: reason }),
      publishDenied: () => metrics.mqttDenials.inc({ action: 'publish' }),
      subscribeDenied: () => metrics.mqttDenials.inc({ action: 'subscribe' }),
    },
  });
  const unsubscribe = bus.subscribe((event) => {
    denyList.add(event);
    const closed = edge.revoke(event.credentialIds);
    metrics.revocations.inc({ reason: event.reason });
    if (closed > 0) {
      metrics.revokeToDisconnect.observe(Math.max(0, Date.now() - event.at) / 1000);
      log.info({ seq: event.seq, reason: event.reason, sessions: closed }, 'revocation closed live sessions');
    }
  });

  const host = config.host;
  const tcp = await listenNamed(() => edge.listenTcp(config.ports.mqtt, host), PORT_VARIABLES.mqtt, config.ports.mqtt, host);
  const ws = await listenNamed(
    () => edge.listenWebSocket(config.ports.ws, host, config.wsPath),
    PORT_VARIABLES.ws,
    config.ports.ws,
    host,
  );
  return {
    edge,
    mqttPort: tcp.port,
    wsPort: ws.port,
    keys,
    denyList,
    close: async () => {
      unsubscribe();
      await edge.close();
    },
  };
}
