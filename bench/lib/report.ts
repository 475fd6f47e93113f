import type { MetricSpec, Scenario } from './scenario';
import type { SystemName } from './systems';

export interface Row {
  scenario: string;
  metric: string;
  unit: string;
  signet: number | null;
  mosquitto: number | null;
  aedes: number | null;
}

export interface Report {
  machine: Record<string, string | number | boolean | null>;
  rows: Row[];
  errors?: string[];
}

export function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** Targets for the edge by scenario/metric (see key()), checked against the medians of the same run. */
const TARGETS: Record<string, { text: string; ok: (r: Row) => boolean | null }> = {
  'connect_tkn/connects': { text: '≥ 2× Mosquitto', ok: (r) => ratioAtLeast(r.signet, r.mosquitto, 2) },
  'p2p_qos0/deliveries': { text: '≥ 1× Mosquitto, ≥ 2× Aedes', ok: (r) => both(ratioAtLeast(r.signet, r.mosquitto, 1), ratioAtLeast(r.signet, r.aedes, 2)) },
  'fanout_qos0/deliveries': { text: '≥ 1× Mosquitto, ≥ 2× Aedes', ok: (r) => both(ratioAtLeast(r.signet, r.mosquitto, 1), ratioAtLeast(r.signet, r.aedes, 2)) },
  'ws_p2p_qos0/deliveries': { text: '≥ 2× Aedes', ok: (r) => ratioAtLeast(r.signet, r.aedes, 2) },
  'latency_5k/p99': { text: '≤ 0.6 ms', ok: (r) => atMost(r.signet, 0.6) },
  'gc_1core/gc_max_ms': { text: '≤ 5 ms', ok: (r) => atMost(r.signet, 5) },
  'idle_mem_tcp/rss_per_conn': { text: '≤ 4 KB', ok: (r) => atMost(r.signet, 4096) },
  'idle_mem_ws/rss_per_conn': { text: '≤ 2 KB', ok: (r) => atMost(r.signet, 2048) },
  'revoke_one/p99': { text: '≤ 5 ms', ok: (r) => atMost(r.signet, 5) },
  'revoke_10k/all_closed': { text: '≤ 100 ms', ok: (r) => atMost(r.signet, 100) },
  ...Object.fromEntries(
    ['cluster_p2p_qos0', 'cluster_p2p_qos1', 'cluster_fanout_qos0'].flatMap((s) => [
      [`${s}/deliveries`, { text: '≥ 2× Aedes on Redis', ok: (r: Row) => ratioAtLeast(r.signet, r.aedes, 2) }],
      [`${s}/cost_growth`, { text: '≤ 2×', ok: (r: Row) => atMost(r.signet, 2) }],
    ]),
  ),
};

/**
 * Targets of the credential side (issue 16), which depend on the backend Signet ran on: per CPU-second of
 * the Signet process, p99 at the offered rate (500/s on PostgreSQL, 400/s embedded; see scenarios/credentials.ts).
 */
const CREDENTIAL_TARGETS: Record<string, { issued: number; p99: number }> = {
  postgres: { issued: 1000, p99: 15 },
  embedded: { issued: 400, p99: 30 },
};
const CREDENTIAL_SCENARIOS = ['token_issue', 'token_refresh', 'exchange_hs256', 'exchange_rs256'];

function targetOf(r: Row, backend: string | undefined): { text: string; ok: (r: Row) => boolean | null } | undefined {
  const fixed = TARGETS[key(r.scenario, r.metric)];
  if (fixed) return fixed;
  if (r.scenario === 'refresh_storm') {
    if (r.metric === 'answered') return { text: '100 %', ok: (x) => (x.signet === null ? null : x.signet >= 100) };
    if (r.metric === 'wrongly_refused' || r.metric === 'reuse_missed') return { text: '0', ok: (x) => atMost(x.signet, 0) };
    return undefined;
  }
  const t = backend === undefined ? undefined : CREDENTIAL_TARGETS[backend];
  if (!t || !CREDENTIAL_SCENARIOS.includes(r.scenario)) return undefined;
  if (r.metric === 'issued') return { text: `≥ ${t.issued.toLocaleString('en-US')} (${backend})`, ok: (x) => (x.signet === null ? null : x.signet >= t.issued) };
  if (r.metric === 'p99') return { text: `≤ ${t.p99} ms (${backend})`, ok: (x) => atMost(x.signet, t.p99) };
  return undefined;
}

function ratioAtLeast(a: number | null, b: number | null, k: number): boolean | null {
  return a === null || b === null || b === 0 ? null : a / b >= k;
}
function atMost(a: number | null, limit: number): boolean | null {
  return a === null ? null : a <= limit;
}
function both(a: boolean | null, b: boolean | null): boolean | null {
  return a === null || b === null ? null : a && b;
}

export function buildRows(scenarios: Scenario[], samples: Map<string, Map<SystemName, number[]>>): Row[] {
  const rows: Row[] = [];
  for (const s of scenarios) {
    for (const m of s.metrics) {
      const bySystem = samples.get(key(s.name, m)) ?? new Map<SystemName, number[]>();
      rows.push({
        scenario: s.name,
        metric: m.metric,
        unit: m.unit,
        signet: median(bySystem.get('signet') ?? []),
        mosquitto: median(bySystem.get('mosquitto') ?? []),
        aedes: median(bySystem.get('aedes') ?? []),
      });
    }
  }
  return rows;
}

export const key = (scenario: string, m: MetricSpec | string): string => `${scenario}/${typeof m === 'string' ? m : m.metric}`;

function fmt(v: number | null, unit: string): string {
  if (v === null) return '—';
  if (unit === 'ms') return v < 10 ? v.toFixed(2) : v.toFixed(0);
  if (unit === '%' || unit === 's' || unit.startsWith('×')) return v.toFixed(unit === '%' ? 1 : 2);
  return Math.round(v).toLocaleString('en-US');
}

function ratio(a: number | null, b: number | null): string {
  return a === null || b === null || b === 0 ? '—' : `${(a / b).toFixed(2)}×`;
}

/** The results as a Markdown table (also readable on a terminal). */
export function markdownTable(rows: Row[], signetBackend?: string): string {
  const lines = [
    '| scenario | metric | unit | Signet | Mosquitto | Aedes | Signet/Mosquitto | Signet/Aedes | target | met |',
    '|---|---|---|---:|---:|---:|---:|---:|---|:-:|',
  ];
  for (const r of rows) {
    const target = targetOf(r, signetBackend);
    const ok = target?.ok(r) ?? null;
    lines.push(
      `| ${r.scenario} | ${r.metric} | ${r.unit} | ${fmt(r.signet, r.unit)} | ${fmt(r.mosquitto, r.unit)} | ${fmt(r.aedes, r.unit)} | ` +
        `${ratio(r.signet, r.mosquitto)} | ${ratio(r.signet, r.aedes)} | ${target?.text ?? ''} | ${ok === null ? '' : ok ? 'yes' : 'no'} |`,
    );
  }
  return lines.join('\n');
}

export function machineLine(machine: Report['machine']): string {
  return Object.entries(machine)
    .map(([k, v]) => `${k}: ${String(v)}`)
    .join('; ');
}
