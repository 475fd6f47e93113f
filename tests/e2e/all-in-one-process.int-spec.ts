/**
 * `npm start` as a user sees it: the all-in-one process on the embedded
 * defaults, its banner, the bootstrap key printed once, clean stops, and a
 * taken port reported by the variable to change.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { TokenApi } from '../support/api';
import { brokerUrl, connect } from '../support/mqtt';
import { testEnv } from '../support/signet';
import { SpawnedApp } from '../support/spawn';

describe('the all-in-one process', () => {
  let dataDir: string;
  let app: SpawnedApp | undefined;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'signet-start-'));
  });
  afterEach(async () => {
    await app?.stop('SIGKILL');
    app = undefined;
  });
  afterAll(() => rm(dataDir, { recursive: true, force: true }));

  it('prints its addresses and the bootstrap key once, alone on its line; the key survives restarts', async () => {
    app = await SpawnedApp.start('signet', testEnv({ SIGNET_DATA_DIR: dataDir, SIGNET_LOG_LEVEL: 'warn' })).ready();
    for (const label of ['HTTP API', 'MQTT', 'WebSocket'] as const) expect(app.port(label)).toBeGreaterThan(0);
    const keys = app.stdout.split('\n').filter((l) => l.includes('sk_'));
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatch(/^sk_[0-9a-z]{12}_[0-9A-Za-z]{38}$/);
    const key = keys[0];
    expect(await app.stop('SIGTERM')).toBe(0);

    app = await SpawnedApp.start('signet', testEnv({ SIGNET_DATA_DIR: dataDir, SIGNET_LOG_LEVEL: 'warn' })).ready();
    expect(app.stdout).not.toContain('sk_');
    const api = new TokenApi(`http://127.0.0.1:${app.port('HTTP API')}`, key);
    const creds = await api.issue({ user_id: 'alice' });
    const client = await connect(brokerUrl({ mqttPort: app.port('MQTT'), wsPort: app.port('WebSocket') }, 'ws'), {
      username: creds.mqtt_credentials.username,
      password: creds.mqtt_credentials.password,
      protocolVersion: 5,
    });
    client.end(true);
    expect(await app.stop('SIGINT')).toBe(0);
  });

  // The WebSocket listener starts after the TCP one: its failure must also end the process.
  it.each([
    ['SIGNET_MQTT_PORT', 'is already in use'],
    ['SIGNET_HTTP_PORT', 'is already in use'],
    // uWebSockets.js does not tell why a listen failed.
    ['SIGNET_WS_PORT', 'is it in use?'],
  ])('names %s when its port is taken, and exits', async (variable, reason) => {
    const blocker: Server = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as { port: number }).port;
    try {
      app = SpawnedApp.start('signet', testEnv({ SIGNET_DATA_DIR: dataDir, [variable]: String(port) }));
      expect(await app.exited).toBe(1);
      expect(app.stderr).toContain(`${variable}: `);
      expect(app.stderr).toContain(`${port} on 127.0.0.1`);
      expect(app.stderr).toContain(reason);
    } finally {
      blocker.close();
    }
  });

  it('names the variable of a bad setting', async () => {
    app = SpawnedApp.start('signet', testEnv({ SIGNET_DATA_DIR: dataDir, SIGNET_HTTP_PORT: 'eighty' }));
    expect(await app.exited).toBe(1);
    expect(app.stderr).toContain("SIGNET_HTTP_PORT: expected an integer, got 'eighty'");
  });
});
