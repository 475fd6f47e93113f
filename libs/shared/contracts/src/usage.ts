import { USAGE_COUNTERS, UsageCounter, UsageDelta } from './api-keys';

export const HOUR_MS = 3_600_000;
export const hourStart = (ms: number): number => Math.floor(ms / HOUR_MS) * HOUR_MS;

/**
 * Usage counters per key and UTC hour, in memory. Increments are a Map
 * lookup and an addition, so they can sit on the MQTT packet path; `drain()`
 * hands the counts over for flushing and `restore()` puts them back when the
 * flush failed, so nothing is lost to a transient outage.
 */
export class UsageAggregator {
  private pending = new Map<string, UsageDelta>();

  record(keyId: string, counter: UsageCounter, amount = 1, now = Date.now()): void {
    const bucketStart = hourStart(now);
    const id = `${keyId}|${bucketStart}`;
    let delta = this.pending.get(id);
    if (delta === undefined) {
      delta = { keyId, bucketStart, apiCalls: 0, mqttConnects: 0, messagesPublished: 0, bytesPublished: 0, denials: 0 };
      this.pending.set(id, delta);
    }
    delta[counter] += amount;
  }

  add(deltas: readonly UsageDelta[]): void {
    for (const d of deltas) {
      for (const c of USAGE_COUNTERS) if (d[c] > 0) this.record(d.keyId, c, d[c], d.bucketStart);
    }
  }

  /** Takes every pending count (the aggregator is then empty). */
  drain(): UsageDelta[] {
    const out = [...this.pending.values()];
    this.pending = new Map();
    return out;
  }

  /** Puts counts back after a failed flush. */
  restore(deltas: readonly UsageDelta[]): void {
    this.add(deltas);
  }

  /** Pending counts of one key (not yet flushed), for fresh answers. */
  pendingFor(keyId: string): UsageDelta[] {
    return [...this.pending.values()].filter((d) => d.keyId === keyId);
  }

  get size(): number {
    return this.pending.size;
  }
}
