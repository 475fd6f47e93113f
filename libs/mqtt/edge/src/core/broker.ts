import { TokenBucketLimiter } from '@signet/rate-limit';

import { ClusterLink, type ClusterHost } from './cluster';
import { Delivery } from './delivery';
import { resolveLimits, type EdgeLimits } from './limits';
import { Qos0Frames } from './outbound';
import type { ConnectAuthenticator } from './principal';
import { Org, type ClientLink, type Session } from './session';
import { Sessions } from './sessions';
import { TimerWheel } from './timer-wheel';
import type { EdgeHooks, EdgeLogger, EdgeOptions, EdgeStats } from './types';
import { UnauthenticatedBudget } from './unauthenticated-budget';
import { WritePressure } from './write-pressure';

export type { SessionRequest } from './sessions';

const noop = (): void => undefined;

const SILENT: EdgeLogger = { info: noop, warn: noop, error: noop, debug: noop };

/**
 * The transport-independent core: the connections, the orgs, the shared timer and the write batching,
 * with the sessions' lifecycle (sessions.ts) and where messages go (delivery.ts). Connections call into it
 * through ClientLink; MqttEdge is its public face.
 */
export class Broker implements ClusterHost {
  readonly limits: EdgeLimits;
  readonly authenticator: ConnectAuthenticator;
  readonly logger: EdgeLogger;
  readonly hooks: EdgeHooks;
  readonly now: () => number;
  /** Coarse clock, refreshed by every sweep and CONNECT (tick): good enough for keepalive and expiry. */
  clock: number;
  /** QoS 0 PUBLISH frames shared by every subscriber of one routed message (outbound.ts). */
  readonly qos0Frames = new Qos0Frames();
  readonly wheel: TimerWheel;
  /** Write batching and the slow-consumer watch. */
  readonly writes: WritePressure;
  readonly connections = new Set<ClientLink>();
  /** The edge's side of the cluster bus (EdgeOptions.cluster); null for an edge on its own. */
  readonly cluster: ClusterLink | null;
  readonly delivery: Delivery;
  readonly sessions: Sessions;
  closing = false;

  private readonly orgs = new Map<string, Org>();
  /** Remote address → open sockets from it (maxConnectionsPerIp); updated on accept and close only. */
  private readonly perAddress = new Map<string, number>();
  /** Bytes held for connections that have not authenticated yet (maxUnauthenticatedBytes[PerIp]). */
  readonly unauthenticated: UnauthenticatedBudget;
  /** Connect rate per remote address (before authentication) and per authenticated owner. */
  readonly ipConnectRate: TokenBucketLimiter;
  readonly identityConnectRate: TokenBucketLimiter;
  private lastPrune = 0;
  private lastBucketPrune = 0;

  private sweepTimer: NodeJS.Timeout | null = null;
  private drainWaiters: (() => void)[] = [];

  /**
   * The stats counters: a plain record that the connections and handlers increment where they count (a
   * field increment on the packet path, no call) and stats() reads. Nothing else of the broker is written
   * from outside it.
   */
  readonly counters = {
    messagesIn: 0,
    messagesOut: 0,
    bytesIn: 0,
    bytesOut: 0,
    connectsAccepted: 0,
    connectsRefused: 0,
    publishDenied: 0,
    subscribeDenied: 0,
    messagesDropped: 0,
    slowConsumers: 0,
  };

  constructor(options: EdgeOptions) {
    this.limits = resolveLimits(options.limits);
    this.authenticator = options.authenticator;
    this.logger = options.logger ?? SILENT;
    this.hooks = options.hooks ?? {};
    this.now = options.now ?? Date.now;
    this.clock = this.now();
    this.wheel = new TimerWheel(this.limits.sweepIntervalMs, this.clock);
    this.unauthenticated = new UnauthenticatedBudget(this.limits);
    this.writes = new WritePressure(this.limits, this.logger, () => this.clock, () => this.counters.slowConsumers++);
    this.ipConnectRate = new TokenBucketLimiter({ ratePerSecond: this.limits.connectRatePerIp, burst: this.limits.connectBurstPerIp });
    this.identityConnectRate = new TokenBucketLimiter({ ratePerSecond: this.limits.connectRatePerIdentity, burst: this.limits.connectBurstPerIdentity });
    // A bus that is alone (a lone in-process edge) has nothing to share: no link, so nothing of it on any path.
    this.cluster = options.cluster && options.cluster.alone !== true ? new ClusterLink(options.cluster, this) : null;
    this.delivery = new Delivery(this);
    this.sessions = new Sessions(this, this.delivery, options.revoked);
  }

  /** Refreshes the coarse clock from the real one (per CONNECT and sweep, not per packet) and returns it. */
  tick(): number {
    return (this.clock = this.now());
  }

  startSweep(): void {
    if (this.sweepTimer !== null) return;
    this.sweepTimer = setInterval(() => this.sweep(), this.limits.sweepIntervalMs);
    this.sweepTimer.unref();
  }

  stopSweep(): void {
    if (this.sweepTimer !== null) clearInterval(this.sweepTimer);
    this.sweepTimer = null;
  }

  /**
   * One pass of the shared timer: connect timeouts, keepalive, credential expiry, session expiry, wills,
   * slow consumers; idle connect-rate buckets once a second.
   */
  sweep(): void {
    const now = this.tick();
    this.wheel.advance(now, (err) => this.logger.error({ err }, 'mqtt edge timer handler failed'));
    this.writes.sweep(now);
    if (now - this.lastBucketPrune >= 1000) {
      this.lastBucketPrune = now;
      this.ipConnectRate.prune(now);
      this.identityConnectRate.prune(now);
    }
    if (now - this.lastPrune >= 60_000) {
      this.lastPrune = now;
      // Empty orgs are pruned here rather than when their last session ends, so that no code
      // holding an Org across a call (attach, takeover) ever writes into a detached one.
      for (const [id, org] of this.orgs) {
        if (org.sessions.size === 0 && org.retained.size === 0 && org.subscriptions.size === 0 && org.remote === null && org.durable === null) {
          this.orgs.delete(id);
        }
      }
    }
    this.sessions.sweep(now);
  }

  // ---------------------------------------------------------------- connections

  /** A connection opened; `conn.remoteKey` is already read (uWS must not be asked after close). */
  register(conn: ClientLink): void {
    this.connections.add(conn);
    const address = conn.remoteKey;
    this.perAddress.set(address, (this.perAddress.get(address) ?? 0) + 1);
    this.startSweep();
  }

  unregister(conn: ClientLink): void {
    if (!this.connections.delete(conn)) return;
    const address = conn.remoteKey;
    const open = (this.perAddress.get(address) ?? 1) - 1;
    if (open <= 0) this.perAddress.delete(address);
    else this.perAddress.set(address, open);
    if (this.connections.size === 0 && this.drainWaiters.length > 0) {
      const waiters = this.drainWaiters;
      this.drainWaiters = [];
      for (const w of waiters) w();
    }
  }

  /** Open sockets from `address`, this connection included once registered. */
  connectionsFrom(address: string): number {
    return this.perAddress.get(address) ?? 0;
  }

  /** Resolves once every socket has closed. */
  whenNoConnections(): Promise<void> {
    if (this.connections.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  // ---------------------------------------------------------------- orgs

  org(orgId: string): Org {
    let org = this.orgs.get(orgId);
    if (org === undefined) {
      org = new Org(orgId, this.sessions);
      if (this.cluster !== null) org.interest = new Map();
      this.orgs.set(orgId, org);
    }
    return org;
  }

  findOrg(orgId: string): Org | undefined {
    return this.orgs.get(orgId);
  }

  *liveSessions(): Iterable<Session> {
    for (const conn of this.connections) {
      const session = conn.session;
      if (session !== null && session.connection === conn) yield session;
    }
  }

  // ---------------------------------------------------------------- stats

  stats(): EdgeStats {
    let retained = 0;
    let subscriptions = 0;
    for (const org of this.orgs.values()) {
      retained += org.retained.size;
      subscriptions += org.subscriptions.size + org.sharedCount;
    }
    return {
      connections: this.connections.size,
      sessions: this.sessions.count,
      ...this.counters,
      retainedMessages: retained,
      subscriptions,
      orgs: this.orgs.size,
      connectRateBuckets: this.ipConnectRate.size + this.identityConnectRate.size,
      unauthenticatedBytes: this.unauthenticated.total,
      remoteRoutes: this.cluster?.remoteRoutes ?? 0,
    };
  }
}
