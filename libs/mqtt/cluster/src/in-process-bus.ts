import { SEP } from './frames';
import {
  DEFAULT_LEASE_MS,
  type ClaimOptions,
  type ClaimResult,
  type ClusterBus,
  type ClusterMessage,
  type ClusterNode,
  type SessionDirectory,
  type SessionRecord,
} from './types';

export interface InProcessClusterOptions {
  /** How long a lease lasts without renewal (default {@link DEFAULT_LEASE_MS}). */
  leaseMs?: number;
  now?: () => number;
}

interface Member {
  readonly bus: InProcessClusterBus;
  node: ClusterNode;
  leaseUntil: number;
  /** `orgId \0 filter` of this edge's routes. */
  readonly routes: Set<string>;
}

interface Owner {
  edgeId: string;
  owner: string;
  epoch: number;
  session?: SessionRecord;
}

const SILENT_NODE: ClusterNode = {
  deliver: () => undefined,
  routeChanged: () => undefined,
  edgeGone: () => undefined,
  takenOver: () => undefined,
  rejoined: () => undefined,
  kick: () => undefined,
  durable: () => undefined,
};

/**
 * The shared state of edges in one process: what Redis holds for the Redis bus. Every bus of a hub sees
 * the others; `new InProcessClusterBus()` without a hub is a cluster of one (the embedded default).
 */
export class InProcessClusterHub {
  readonly leaseMs: number;
  readonly now: () => number;
  private readonly members = new Map<string, Member>();
  private readonly owners = new Map<string, Owner>();
  private epoch = 0;

  constructor(options: InProcessClusterOptions = {}) {
    this.leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
    this.now = options.now ?? Date.now;
  }

  /** A bus for edge `edgeId` on this hub. */
  bus(edgeId: string): InProcessClusterBus {
    return new InProcessClusterBus(edgeId, this);
  }

  /** Callbacks run after the current call, as an engine's would arrive: never inside the caller's own work. */
  private notify(member: Member, call: (node: ClusterNode) => void): void {
    queueMicrotask(() => {
      if (this.members.get(member.bus.edgeId) === member) call(member.node);
    });
  }

  join(bus: InProcessClusterBus, node: ClusterNode): void {
    this.reap();
    const edgeId = bus.edgeId;
    // An earlier incarnation under this id (restarted before its lease ran out) leaves first, as on Redis.
    this.leave(edgeId);
    const member: Member = { bus, node, leaseUntil: this.now() + this.leaseMs, routes: new Set() };
    for (const other of this.members.values()) {
      for (const key of other.routes) {
        const [orgId, filter] = key.split(SEP);
        node.routeChanged(other.bus.edgeId, orgId, filter, true);
      }
    }
    this.members.set(edgeId, member);
  }

  renew(edgeId: string): void {
    const member = this.members.get(edgeId);
    if (member !== undefined) member.leaseUntil = this.now() + this.leaseMs;
    this.reap();
  }

  /** Removes the edges whose lease has expired, with their routes and client ids, and tells the others. */
  reap(): void {
    const now = this.now();
    for (const member of [...this.members.values()]) if (member.leaseUntil <= now) this.leave(member.bus.edgeId);
  }

  /** The edge stopped without leaving (a killed process): it hears nothing more; its lease runs out. */
  abandon(edgeId: string): void {
    const member = this.members.get(edgeId);
    if (member !== undefined) member.node = SILENT_NODE;
  }

  leave(edgeId: string): void {
    const member = this.members.get(edgeId);
    if (member === undefined) return;
    this.members.delete(edgeId);
    for (const [key, owner] of this.owners) if (owner.edgeId === edgeId) this.owners.delete(key);
    for (const other of this.members.values()) this.notify(other, (node) => node.edgeGone(edgeId));
  }

  setRoute(edgeId: string, orgId: string, filter: string, present: boolean): void {
    const member = this.members.get(edgeId);
    if (member === undefined) return;
    const key = orgId + SEP + filter;
    if (present === member.routes.has(key)) return;
    if (present) member.routes.add(key);
    else member.routes.delete(key);
    for (const other of this.members.values()) {
      if (other !== member) this.notify(other, (node) => node.routeChanged(edgeId, orgId, filter, present));
    }
  }

  send(edgeId: string, orgId: string, message: ClusterMessage): void {
    const member = this.members.get(edgeId);
    if (member !== undefined) this.notify(member, (node) => node.deliver(orgId, message));
  }

  claim(edgeId: string, orgId: string, clientId: string, owner: string, takeover: boolean, session?: SessionRecord): ClaimResult {
    const key = orgId + SEP + clientId;
    const held = this.owners.get(key);
    const holder = held === undefined ? undefined : this.members.get(held.edgeId);
    const live = holder !== undefined && holder.leaseUntil > this.now();
    if (held !== undefined && live && (held.owner !== owner || (!takeover && held.edgeId !== edgeId))) return { ok: false };
    const epoch = ++this.epoch;
    this.owners.set(key, { edgeId, owner, epoch, ...(session !== undefined ? { session } : {}) });
    if (held !== undefined && live && held.edgeId !== edgeId) this.notify(holder!, (node) => node.takenOver(orgId, clientId, epoch));
    return { ok: true, epoch };
  }

  release(orgId: string, clientId: string, epoch: number): void {
    const key = orgId + SEP + clientId;
    if (this.owners.get(key)?.epoch === epoch) this.owners.delete(key);
  }

  /** The session registry of this hub's edges (what RedisSessionDirectory reads on Redis). */
  readonly sessions: SessionDirectory = {
    list: async (orgId, query) => {
      const now = this.now();
      const all: SessionRecord[] = [];
      for (const [key, held] of this.owners) {
        const r = held.session;
        if (r === undefined || !key.startsWith(orgId + SEP) || (this.members.get(held.edgeId)?.leaseUntil ?? 0) <= now) continue;
        if (query.userId !== undefined && r.userId !== query.userId) continue;
        if (query.clientId !== undefined && r.clientId !== query.clientId) continue;
        if (query.after !== undefined && r.clientId <= query.after) continue;
        all.push(r);
      }
      all.sort((a, b) => (a.clientId < b.clientId ? -1 : a.clientId > b.clientId ? 1 : 0));
      return { sessions: all.slice(0, query.limit), more: all.length > query.limit };
    },
    kick: async (orgId, clientId) => {
      const held = this.owners.get(orgId + SEP + clientId);
      const member = held === undefined ? undefined : this.members.get(held.edgeId);
      if (member === undefined || member.leaseUntil <= this.now()) return false;
      this.notify(member, (node) => node.kick(orgId, clientId));
      return true;
    },
  };
}

/** One edge's handle on an {@link InProcessClusterHub}. */
export class InProcessClusterBus implements ClusterBus {
  readonly hub: InProcessClusterHub;
  /** Made without a hub: a hub of its own, which nothing else can join. */
  readonly alone: boolean;
  private heartbeat: NodeJS.Timeout | null = null;
  private started = false;

  constructor(
    readonly edgeId = 'local',
    hub?: InProcessClusterHub,
  ) {
    this.hub = hub ?? new InProcessClusterHub();
    this.alone = hub === undefined;
  }

  async start(node: ClusterNode): Promise<void> {
    this.hub.join(this, node);
    this.started = true;
    this.heartbeat = setInterval(() => this.hub.renew(this.edgeId), Math.max(1, Math.floor(this.hub.leaseMs / 3)));
    this.heartbeat.unref();
  }

  setRoute(orgId: string, filter: string, present: boolean): void {
    if (this.started) this.hub.setRoute(this.edgeId, orgId, filter, present);
  }

  send(edgeId: string, orgId: string, message: ClusterMessage): void {
    if (this.started) this.hub.send(edgeId, orgId, message);
  }

  claim(orgId: string, clientId: string, owner: string, options: ClaimOptions = {}): ClaimResult {
    return this.hub.claim(this.edgeId, orgId, clientId, owner, options.takeover !== false, options.session);
  }

  release(orgId: string, clientId: string, epoch: number): void {
    if (this.started) this.hub.release(orgId, clientId, epoch);
  }

  async close(options: { release?: boolean } = {}): Promise<void> {
    if (!this.started) return;
    this.started = false;
    if (this.heartbeat !== null) clearInterval(this.heartbeat);
    this.heartbeat = null;
    if (options.release !== false) this.hub.leave(this.edgeId);
    else this.hub.abandon(this.edgeId);
  }
}
