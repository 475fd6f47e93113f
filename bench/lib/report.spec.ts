import { buildRows, markdownTable, median, type Row } from './report';
import type { Scenario } from './scenario';

const scenario = (name: string, metrics: string[]): Scenario => ({
  name,
  metrics: metrics.map((metric) => ({ metric, unit: 'ms', better: 'lower' as const })),
  applies: () => true,
  run: async () => ({}),
});

describe('bench report', () => {
  it('takes the median of each system’s rounds, null where a system has none', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBeNull();
    const samples = new Map([['revoke_one/p99', new Map([['signet' as const, [5, 3, 4]]])]]);
    expect(buildRows([scenario('revoke_one', ['p99'])], samples)).toEqual([
      { scenario: 'revoke_one', metric: 'p99', unit: 'ms', signet: 4, mosquitto: null, aedes: null },
    ]);
  });

  it('checks a target against its own scenario and metric only', () => {
    const rows: Row[] = [
      { scenario: 'latency_5k', metric: 'p99', unit: 'ms', signet: 0.5, mosquitto: 0.7, aedes: 1 },
      { scenario: 'latency_5k', metric: 'sends_late_p99', unit: 'ms', signet: 0.2, mosquitto: 0.2, aedes: 0.2 },
      { scenario: 'revoke_one', metric: 'p99', unit: 'ms', signet: 6, mosquitto: null, aedes: 3 },
    ];
    const lines = markdownTable(rows).split('\n');
    expect(lines[2]).toMatch(/^\| latency_5k \| p99 \|.*\| ≤ 0\.6 ms \| yes \|$/);
    expect(lines[3]).toMatch(/^\| latency_5k \| sends_late_p99 \|.*\| {2}\| {2}\|$/);
    expect(lines[4]).toMatch(/^\| revoke_one \| p99 \| ms \| 6\.00 \| — \| 3\.00 \| — \| 2\.00× \| ≤ 5 ms \| no \|$/);
  });
});
