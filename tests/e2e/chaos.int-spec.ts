/**
 * `npm run chaos`, smoke-sized: the fault campaign (bench/chaos/campaign.ts) against the all-in-one and the
 * split services on PostgreSQL and Redis behind proxies. Every column that must be 0 is 0 (sessions cut
 * wrongly included), and each fault was felt (503s during the PostgreSQL faults, the slow consumer and the
 * killed edge's sessions cut), so the zeros mean something.
 */
import { runCampaign, ZERO_COLUMNS, type FaultRow, type Topology } from '../../bench/chaos/campaign';

jest.setTimeout(180_000);

describe.each<Topology>(['all-in-one', 'split'])('the chaos campaign against the %s', (topology) => {
  let rows: FaultRow[];
  beforeAll(async () => {
    rows = await runCampaign({ topology, users: 6, faultMs: 1500 });
  });

  it('injects every fault, with sessions live during the dependency faults', () => {
    expect(rows.map((r) => r.fault)).toEqual(['postgres_stall', 'postgres_cut', 'redis_cut', 'slow_consumer', 'edge_killed', 'floods']);
    for (const row of rows) expect(row.injected).toBeGreaterThan(0);
    const live = { slow_consumer: 8, edge_killed: topology === 'split' ? 12 : 6 } as Record<string, number>;
    for (const row of rows) expect(row.sessions).toBe(live[row.fault] ?? 6);
  });

  it('loses no revocation or credential, answers no unexpected 5xx, hangs nothing and crashes nothing', () => {
    const broken = rows.flatMap((r) => ZERO_COLUMNS.filter((c) => r[c] !== 0).map((c) => `${r.fault}.${c}=${r[c]}`));
    expect(broken).toEqual([]);
  });

  it('was felt: the API answered 503 during each PostgreSQL fault; the slow consumer and the killed edge’s sessions were cut', () => {
    for (const fault of ['postgres_stall', 'postgres_cut']) expect(rows.find((r) => r.fault === fault)!.answered_503).toBeGreaterThan(0);
    expect(rows.find((r) => r.fault === 'slow_consumer')!.cut_by_fault).toBe(1);
    expect(rows.find((r) => r.fault === 'edge_killed')!.cut_by_fault).toBe(6);
  });
});
