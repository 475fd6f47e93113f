import type { EdgeLimits } from './limits';

/**
 * Bytes held for connections that have not authenticated yet (a partial CONNECT, packets queued behind
 * an authentication), per remote address and in total. Anyone can make the edge hold these bytes, so
 * they are capped: the connection whose bytes go beyond a cap is closed, and what a connection held is
 * given back when it authenticates or closes. A CONNECT that arrives whole in one read is never held.
 */
export class UnauthenticatedBudget {
  private readonly perAddress = new Map<string, number>();
  private held = 0;

  constructor(private readonly limits: Pick<EdgeLimits, 'maxUnauthenticatedBytesPerIp' | 'maxUnauthenticatedBytes'>) {}

  /** Bytes held over all addresses. */
  get total(): number {
    return this.held;
  }

  /** Bytes held for `address`. */
  heldFor(address: string): number {
    return this.perAddress.get(address) ?? 0;
  }

  /**
   * A connection from `address` now holds `delta` bytes more (or fewer, negative). False: a cap is
   * exceeded (the change is recorded all the same; the caller closes and gives it back).
   */
  change(address: string, delta: number): boolean {
    if (delta === 0) return true;
    const next = (this.perAddress.get(address) ?? 0) + delta;
    if (next <= 0) this.perAddress.delete(address);
    else this.perAddress.set(address, next);
    this.held += delta;
    return delta < 0 || (next <= this.limits.maxUnauthenticatedBytesPerIp && this.held <= this.limits.maxUnauthenticatedBytes);
  }
}
