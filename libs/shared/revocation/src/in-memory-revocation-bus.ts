import { RevocationFanout } from './fanout';
import {
  consoleRevocationLogger,
  toRevocationEvent,
  type RevocationBus,
  type RevocationBusHealth,
  type RevocationEvent,
  type RevocationHandler,
  type RevocationLogger,
} from './types';

export interface InMemoryRevocationBusOptions {
  logger?: RevocationLogger;
  now?: () => number;
}

/**
 * The embedded default (no Redis configured): one process, so delivery is a
 * synchronous call to every handler, and "replay" is the set of active events
 * kept in memory for handlers that subscribe later.
 */
export class InMemoryRevocationBus implements RevocationBus {
  private readonly fanout: RevocationFanout;
  private readonly now: () => number;
  private started = false;
  private closed = false;

  constructor(options: InMemoryRevocationBusOptions = {}) {
    this.now = options.now ?? Date.now;
    this.fanout = new RevocationFanout(options.logger ?? consoleRevocationLogger, this.now);
  }

  async start(): Promise<void> {
    if (this.closed) throw new Error('InMemoryRevocationBus: closed');
    this.started = true;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.fanout.close();
  }

  async publish(event: RevocationEvent): Promise<void> {
    if (this.closed) throw new Error('InMemoryRevocationBus: closed');
    this.fanout.deliver(toRevocationEvent(event));
  }

  subscribe(handler: RevocationHandler): () => void {
    return this.fanout.subscribe(handler);
  }

  health(): RevocationBusHealth {
    const connected = this.started && !this.closed;
    return { connected, lastSyncAt: connected ? this.now() : null, stale: !connected };
  }
}
