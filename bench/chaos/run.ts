/**
 * `npm run chaos [-- --quick] [--topology all-in-one|split] [--json FILE]`: the fault campaign of
 * campaign.ts against the all-in-one and the split services, one fresh deployment each, and its table.
 * Exits 1 when any column that must be 0 is not.
 */
import { writeFileSync } from 'node:fs';

import { formatTable, runCampaign, ZERO_COLUMNS, type FaultRow, type Topology } from './campaign';

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const value = (flag: string): string | undefined => {
    const i = args.indexOf(flag);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const quick = args.includes('--quick');
  const only = value('--topology');
  if (only !== undefined && only !== 'all-in-one' && only !== 'split') {
    process.stderr.write(`chaos: --topology is all-in-one or split, not ${only}\n`);
    process.exit(2);
  }
  const topologies: Topology[] = only !== undefined ? [only] : ['all-in-one', 'split'];
  const rows: FaultRow[] = [];
  for (const topology of topologies) {
    rows.push(...(await runCampaign({ topology, users: quick ? 10 : 100, faultMs: quick ? 2500 : 6000, log: (l) => process.stderr.write(`${l}\n`) })));
  }
  process.stdout.write(`${formatTable(rows)}\n`);
  const json = value('--json');
  if (json !== undefined) writeFileSync(json, JSON.stringify({ rows }, null, 2));
  const failed = rows.filter((r) => ZERO_COLUMNS.some((c) => r[c] !== 0));
  if (failed.length > 0) {
    process.stderr.write(`chaos: ${failed.length} fault(s) broke something that must hold: ${failed.map((r) => `${r.topology}/${r.fault}`).join(', ')}\n`);
    process.exit(1);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`chaos: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
