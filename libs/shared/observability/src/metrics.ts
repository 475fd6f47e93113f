import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

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
  readonly mqttConnects = new Counter({
    name: 'signet_mqtt_connects_total',
    help: 'MQTT CONNECT outcomes',
    labelNames: ['result'] as const,
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
