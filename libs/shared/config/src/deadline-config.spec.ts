import { loadConfig } from './config';

describe('deadlines (database statements, pool acquisition, requests)', () => {
  it('defaults to a few seconds each', () => {
    expect(loadConfig({}).deadlines).toEqual({ dbStatementTimeoutMs: 5000, dbAcquireTimeoutMs: 3000, requestTimeoutMs: 10000 });
  });

  it('reads each variable', () => {
    const config = loadConfig({
      SIGNET_DB_STATEMENT_TIMEOUT_MS: '1500',
      SIGNET_DB_ACQUIRE_TIMEOUT_MS: '800',
      SIGNET_REQUEST_TIMEOUT_MS: '4000',
    });
    expect(config.deadlines).toEqual({ dbStatementTimeoutMs: 1500, dbAcquireTimeoutMs: 800, requestTimeoutMs: 4000 });
  });

  it.each([
    ['SIGNET_DB_STATEMENT_TIMEOUT_MS', '0'],
    ['SIGNET_DB_STATEMENT_TIMEOUT_MS', '5s'],
    ['SIGNET_DB_ACQUIRE_TIMEOUT_MS', '-1'],
    ['SIGNET_DB_ACQUIRE_TIMEOUT_MS', '99'],
    ['SIGNET_REQUEST_TIMEOUT_MS', '1.5'],
    ['SIGNET_REQUEST_TIMEOUT_MS', '3600001'],
  ])('refuses %s=%s, naming the variable', (variable, value) => {
    expect(() => loadConfig({ [variable]: value })).toThrow(new RegExp(`^${variable}: `));
  });
});
