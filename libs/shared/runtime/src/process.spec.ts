import { loadConfig } from '@signet/config';
import { InMemoryRevocationBus } from '@signet/revocation';

import { bannerFor, runProcess } from './process';

const config = loadConfig({ SIGNET_LOG_LEVEL: 'silent' });

describe('runProcess', () => {
  it('closes what the start opened last first, carrying on past a step that fails', async () => {
    const closed: string[] = [];
    const proc = await runProcess('test', config, async (_ctx, onClose) => {
      onClose(async () => void closed.push('database'));
      onClose(async () => {
        closed.push('bus');
        throw new Error('bus would not close');
      });
      onClose(async () => void closed.push('http'));
      return { banner: [], ports: {}, bus: new InMemoryRevocationBus() };
    });
    await proc.close();
    expect(closed).toEqual(['http', 'bus', 'database']);
    // A second close has nothing left to undo.
    await proc.close();
    expect(closed).toHaveLength(3);
  });

  it('a start that fails half-way undoes what it had opened and rethrows', async () => {
    const closed: string[] = [];
    const failure = new Error('SIGNET_HTTP_PORT 8080 is in use');
    await expect(
      runProcess('test', config, async (_ctx, onClose) => {
        onClose(async () => void closed.push('database'));
        onClose(async () => void closed.push('bus'));
        throw failure;
      }),
    ).rejects.toBe(failure);
    expect(closed).toEqual(['bus', 'database']);
  });
});

describe('bannerFor', () => {
  it('names each bound listener, and the bootstrap key only when one was created', () => {
    const lines = bannerFor(config, { http: 8080, mqtt: 1883, grpc: null }, { orgId: 'org_k7xm4pqr2n5t', apiKey: 'sk_test' });
    expect(lines).toEqual([
      '  HTTP API   http://localhost:8080  (OpenAPI at /docs)',
      '  MQTT       mqtt://localhost:1883',
      '',
      'Bootstrap API key for org_k7xm4pqr2n5t (shown once; store it now):',
      'sk_test',
      '',
    ]);
    expect(bannerFor(config, { http: 8080 }, null)).toEqual(['  HTTP API   http://localhost:8080  (OpenAPI at /docs)']);
  });
});
