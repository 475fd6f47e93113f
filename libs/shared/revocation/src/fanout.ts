import { ExpiringMap } from './expiring-map';
import type { RevocationEvent, RevocationHandler, RevocationLogger } from './types';

/**
 * Delivers events to a bus's handlers and remembers the active ones (until
 * `until` passes), so that a handler subscribing late still gets every
 * revocation in force, and so that exact repeats (same seq, same ids, no
 * later `until`) — which replays produce — reach handlers only once.
 * That dedupe is an optimisation: handlers stay idempotent regardless.
 */
export class RevocationFanout {
  private readonly handlers = new Set<RevocationHandler>();
  /** seq → events with that seq (normally one). */
  private readonly retained: ExpiringMap<number, RevocationEvent[]>;
  private closed = false;

  constructor(
    private readonly logger: RevocationLogger,
    now: () => number = Date.now,
  ) {
    this.retained = new ExpiringMap({ now, pruneGranularityMs: 5000 });
  }

  /** Hands `event` to every handler unless it is an exact repeat; returns whether it was delivered. */
  deliver(event: RevocationEvent): boolean {
    if (this.closed) return false;
    const sameSeq = this.retained.get(event.seq);
    if (sameSeq?.some((known) => covers(known, event))) return false;
    const list = sameSeq ? [...sameSeq, event] : [event];
    const expiresAt = Math.max(event.until, this.retained.expiresAt(event.seq) ?? 0);
    // Already-expired events are still delivered (the handler decides), just not retained.
    this.retained.set(event.seq, list, expiresAt);
    for (const handler of [...this.handlers]) this.call(handler, event);
    return true;
  }

  subscribe(handler: RevocationHandler): () => void {
    if (this.closed) return () => undefined;
    this.handlers.add(handler);
    // Synchronous so that, once subscribe returns, the handler has seen every active revocation.
    for (const events of [...this.retained.values()]) for (const event of events) this.call(handler, event);
    return () => {
      this.handlers.delete(handler);
    };
  }

  get handlerCount(): number {
    return this.handlers.size;
  }

  close(): void {
    this.closed = true;
    this.handlers.clear();
    this.retained.clear();
  }

  private call(handler: RevocationHandler, event: RevocationEvent): void {
    try {
      handler(event);
    } catch (err: unknown) {
      // One faulty handler must not starve the others or break the bus's read loop.
      this.logger.error({ err, seq: event.seq }, 'revocation handler threw');
    }
  }
}

function covers(known: RevocationEvent, incoming: RevocationEvent): boolean {
  if (known.until < incoming.until || known.credentialIds.length !== incoming.credentialIds.length) return false;
  const ids = new Set(known.credentialIds);
  return incoming.credentialIds.every((id) => ids.has(id));
}
