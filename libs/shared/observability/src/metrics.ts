import { collectDefaultMetrics, Counter, Gauge, Histogram, type LabelValues, Registry } from 'prom-client';

/**
 * A labelled counter on a per-CONNECT path: an increment is one Map update under a key the caller
 * already has, and the counts reach prom-client when the registry is read. prom-client's own inc
 * hashes and validates its label object on every call, which showed in the CONNECT profile.
 */
export class TalliedCounter<L extends string> {
  private readonly counter: Counter<L>;
  private readonly tallies = new Map<string, { labels: LabelValues<L>; n: number }>();

  constructor(config: { name: string; help: string; labelNames: readonly L[]; registers: Registry[] }) {
    this.counter = new Counter({ ...config, collect: () => this.drain() });
  }

  /** `key` names `labels` (same key, same labels); `labels` is only read the first time a key is seen. */
  inc(key: string, labels: LabelValues<L> | (() => LabelValues<L>)): void {
    const tally = this.tallies.get(key);
    if (tally !== undefined) tally.n++;
    else this.tallies.set(key, { labels: typeof labels === 'function' ? labels() : labels, n: 1 });
  }

  private drain(): void {
    for (const tally of this.tallies.values()) {
      if (tally.n === 0) continue;
      this.counter.inc(tally.labels, tally.n);
      tally.n = 0;
    }
  }
}

/**
 * The process's Prometheus registry and Signet's metrics. One registry per
 * process (created by the app), so tests can create several side by side.
 */
export class SignetMetrics {
  readonly registry = new Registry();

  readonly httpRequests = new Counter({
    name: 'signet_http_requests_total',
    help: 'HTTP requests by route and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [this.registry],
  });
  readonly tokensIssued = new Counter({
    name: 'signet_tokens_issued_total',
    help: 'tkn_ credentials issued (including refreshes)',
    registers: [this.registry],
  });
  readonly revocations = new Counter({
    name: 'signet_revocations_total',
    help: 'Revocation events seen, by reason',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  /** Keyed by the outcome (`accepted` or the refusal). */
  readonly mqttConnects = new TalliedCounter({
    name: 'signet_mqtt_connects_total',
    help: 'MQTT CONNECT outcomes',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });
  /** CONNECT decisions by the chain step that made them (`end_of_chain` when none did); keyed `step result`. */
  readonly mqttAuthDecisions = new TalliedCounter({
    name: 'signet_mqtt_auth_decisions_total',
    help: 'MQTT CONNECT decisions by deciding chain step and result',
    labelNames: ['step', 'result'] as const,
    registers: [this.registry],
  });
  readonly mqttDenials = new Counter({
    name: 'signet_mqtt_denials_total',
    help: 'PUBLISH/SUBSCRIBE refused by permissions',
    labelNames: ['action'] as const,
    registers: [this.registry],
  });
  readonly mqttConnections = new Gauge({
    name: 'signet_mqtt_connections',
    help: 'Open MQTT connections',
    registers: [this.registry],
  });
  readonly revokeToDisconnect = new Histogram({
    name: 'signet_revoke_to_disconnect_seconds',
    help: 'From a revocation being committed to its sessions being closed on this edge',
    buckets: [0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1, 5],
    registers: [this.registry],
  });

  readonly retentionPruned = new Counter({
    name: 'signet_retention_pruned_rows_total',
    help: 'Rows deleted by the retention job, by table',
    labelNames: ['table'] as const,
    registers: [this.registry],
  });

  constructor(options: { defaults?: boolean } = {}) {
    if (options.defaults ?? true) collectDefaultMetrics({ register: this.registry });
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }
}
