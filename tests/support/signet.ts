import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { Env, loadConfig } from '@signet/config';
import type { SignetProcess } from '@signet/runtime';
import { createTestDatabase, redisUrl, uniquePrefix } from '@signet/testing';

import { startAllInOne } from '../../apps/signet/src/signet.composition';
import { TokenApi } from './api';
import type { Endpoints } from './mqtt';



/** Where a Signet under test keeps its state: embedded defaults, or the machine's PostgreSQL and Redis. */
export interface Backend {
  name: 'embedded' | 'postgres+redis';
  env: Env;
  cleanup(): Promise<void>;
}

export async function embeddedBackend(): Promise<Backend> {
  const dataDir = await mkdtemp(join(tmpdir(), 'signet-e2e-'));
  return { name: 'embedded', env: { SIGNET_DATA_DIR: dataDir }, cleanup: () => rm(dataDir, { recursive: true, force: true }) };
}

export async function realBackend(label: string): Promise<Backend> {
  const db = await createTestDatabase(`signet_${label}`);
  const dataDir = await mkdtemp(join(tmpdir(), 'signet-e2e-'));
  return {
    name: 'postgres+redis',
    env: {
      DATABASE_URL: db.url,
      REDIS_URL: redisUrl(),
      SIGNET_REDIS_PREFIX: uniquePrefix(label),
      SIGNET_MASTER_KEY: randomBytes(32).toString('base64'),
      SIGNET_DATA_DIR: dataDir,
    },
    cleanup: async () => {
      await db.drop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

export const BACKENDS: [string, (label: string) => Promise<Backend>][] = [
  ['embedded', () => embeddedBackend()],
  ['postgres+redis', (label) => realBackend(label)],
];

/** Every listener on port 0 of the loopback, quiet logs. */
export const testEnv = (extra: Env = {}): Env => ({
  SIGNET_HOST: '127.0.0.1',
  SIGNET_HTTP_PORT: '0',
  SIGNET_MQTT_PORT: '0',
  SIGNET_WS_PORT: '0',
  SIGNET_MQTTS_PORT: '0',
  SIGNET_WSS_PORT: '0',
  SIGNET_GRPC_PORT: '0',
  SIGNET_LOG_LEVEL: 'silent',
  // Every test client connects from 127.0.0.1, many as one user, faster than real clients: no connect rate limit.
  SIGNET_MQTT_CONNECT_RATE_PER_IP: '0',
  SIGNET_MQTT_CONNECT_RATE_PER_IDENTITY: '0',
  // Many tests refuse bad credentials from 127.0.0.1 on purpose; the failed-CONNECT throttle has its own tests.
  SIGNET_MQTT_AUTH_FAILURES_PER_IP: '0',
  ...extra,
});

export async function startSignet(backend: Backend, extra: Env = {}): Promise<SignetProcess> {
  return startAllInOne(loadConfig(testEnv({ ...backend.env, ...extra })));
}

/** How a test reaches a running all-in-one: its API without a key, and its MQTT listeners. */
export function reach(signet: SignetProcess): { anonymous: TokenApi; endpoints: Endpoints } {
  return {
    anonymous: new TokenApi(`http://127.0.0.1:${signet.ports.http}`),
    endpoints: { mqttPort: signet.ports.mqtt!, wsPort: signet.ports.ws! },
  };
}
