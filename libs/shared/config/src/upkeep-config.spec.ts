import { loadConfig } from './config';

describe('upkeep settings (retention, public rate limit)', () => {
  it('has safe defaults', () => {
    expect(loadConfig({}).upkeep).toEqual({
      retention: { pruneIntervalMs: 600_000, retentionDays: 7 },
      publicRateLimit: { ratePerSecond: 10, burst: 100 },
    });
  });

  it('reads each variable; 0 disables pruning and the rate limit', () => {
    const config = loadConfig({
      SIGNET_PRUNE_INTERVAL_MS: '0',
      SIGNET_RETENTION_DAYS: '30',
      SIGNET_PUBLIC_RATE_PER_IP: '0',
      SIGNET_PUBLIC_BURST_PER_IP: '5',
    });
    expect(config.upkeep).toEqual({ retention: { pruneIntervalMs: 0, retentionDays: 30 }, publicRateLimit: { ratePerSecond: 0, burst: 5 } });
  });

  it.each([
    ['SIGNET_PRUNE_INTERVAL_MS', '-1'],
    ['SIGNET_PRUNE_INTERVAL_MS', 'often'],
    ['SIGNET_RETENTION_DAYS', '0'],
    ['SIGNET_RETENTION_DAYS', '1.5'],
    ['SIGNET_PUBLIC_RATE_PER_IP', '-1'],
    ['SIGNET_PUBLIC_BURST_PER_IP', '0'],
  ])('refuses %s=%s, naming the variable', (variable, value) => {
    expect(() => loadConfig({ [variable]: value })).toThrow(new RegExp(`^${variable}: `));
  });
});
