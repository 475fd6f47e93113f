import { Registry } from 'prom-client';

import { TalliedCounter } from './metrics';

describe('TalliedCounter', () => {
  it('reports its tallies when the registry is read, and keeps counting after', async () => {
    const registry = new Registry();
    const counter = new TalliedCounter({ name: 't_total', help: 'h', labelNames: ['step', 'result'] as const, registers: [registry] });
    const labels = jest.fn(() => ({ step: 'token', result: 'allow' }));
    counter.inc('token allow', labels);
    counter.inc('token allow', labels);
    counter.inc('end_of_chain bad_credentials', { step: 'end_of_chain', result: 'bad_credentials' });
    expect(labels).toHaveBeenCalledTimes(1);
    let text = await registry.metrics();
    expect(text).toContain('t_total{step="token",result="allow"} 2');
    expect(text).toContain('t_total{step="end_of_chain",result="bad_credentials"} 1');
    counter.inc('token allow', labels);
    text = await registry.metrics();
    expect(text).toContain('t_total{step="token",result="allow"} 3');
    expect(text).toContain('t_total{step="end_of_chain",result="bad_credentials"} 1');
  });
});
