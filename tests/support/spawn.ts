// The tests start Signet's apps the way the benchmark and the chaos campaign do.
import type { Env } from '@signet/config';

import { SpawnedApp } from '../../bench/lib/spawned-app';
import { testEnv } from './signet';

export { appEntry, ROOT, SpawnedApp, type AppName } from '../../bench/lib/spawned-app';

/**
 * A standalone mqtt-edge beside split services, ready: signing keys,
 * revocations and key verdicts from the token service, and the org chains
 * (`webhooks`) and LDAP binds (`directory`) from those services when given.
 */
export function startSplitEdge(env: Env, services: { tokens: SpawnedApp; webhooks?: SpawnedApp; directory?: SpawnedApp }): Promise<SpawnedApp> {
  const grpc = (app: SpawnedApp) => `127.0.0.1:${app.port('gRPC')}`;
  const { tokens, webhooks, directory } = services;
  return SpawnedApp.start(
    'mqtt-edge',
    testEnv({
      ...env,
      SIGNET_TOKEN_SERVICE_GRPC: grpc(tokens),
      SIGNET_APIKEY_SERVICE_GRPC: grpc(tokens),
      ...(webhooks ? { SIGNET_AUTH_WEBHOOKS_GRPC: grpc(webhooks) } : {}),
      ...(directory ? { SIGNET_DIRECTORY_GRPC: grpc(directory) } : {}),
    }),
  ).ready();
}
