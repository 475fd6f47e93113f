import type { DenyList, RevocationBus, RevocationEvent, RevocationLogger } from '@signet/revocation';

/** Where live sessions are closed: the edge (`MqttEdge.revoke`). */
export interface RevocableSessions {
  /** Closes the live sessions of these credentials; returns how many it closed. */
  revoke(credentialIds: readonly string[]): number;
}

/** A cache of verdicts about credentials (KeyAuthenticator's): forgets the ones a revocation names. */
export interface CredentialVerdictCache {
  invalidate(credentialIds: readonly string[]): void;
}

/** The two metrics of a revocation on an edge (SignetMetrics has them). */
export interface RevocationMetrics {
  revocations: { inc(labels: { reason: string }): void };
  revokeToDisconnect: { observe(seconds: number): void };
}

export interface EdgeRevocationSubscriberOptions {
  bus: Pick<RevocationBus, 'subscribe'>;
  /** What every CONNECT is checked against. */
  denyList: DenyList;
  sessions: RevocableSessions;
  verdictCaches?: readonly CredentialVerdictCache[];
  metrics?: RevocationMetrics;
  logger?: Pick<RevocationLogger, 'info'>;
  now?: () => number;
}

/**
 * The edge's one reaction to a revocation, whatever the credential kind: deny
 * the credentials from now on (deny list), forget cached verdicts about them,
 * close their live sessions (MQTT 5: DISCONNECT 0x98), and count it. Events
 * come at least once (live and replayed): every step is idempotent.
 */
export class EdgeRevocationSubscriber {
  private readonly now: () => number;

  constructor(private readonly options: EdgeRevocationSubscriberOptions) {
    this.now = options.now ?? Date.now;
  }

  /** Subscribes to the bus, which first replays the revocations in force; returns the unsubscribe. */
  connect(): () => void {
    return this.options.bus.subscribe((event) => this.onRevocation(event));
  }

  onRevocation(event: RevocationEvent): void {
    const { denyList, sessions, verdictCaches = [], metrics, logger } = this.options;
    // Denied first: a CONNECT racing this event is refused even if its verdict was cached.
    denyList.add(event);
    for (const cache of verdictCaches) cache.invalidate(event.credentialIds);
    const closed = sessions.revoke(event.credentialIds);
    metrics?.revocations.inc({ reason: event.reason });
    if (closed > 0) {
      metrics?.revokeToDisconnect.observe(Math.max(0, this.now() - event.at) / 1000);
      logger?.info({ seq: event.seq, reason: event.reason, sessions: closed }, 'revocation closed live sessions');
    }
  }
}
