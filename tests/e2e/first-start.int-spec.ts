import { once } from 'node:events';
import { createServer, Server } from 'node:net';
import { AddressInfo } from 'node:net';

import type { SignetProcess } from '@signet/runtime';

import { connect } from '../support/mqtt';
import { Backend, embeddedBackend, startSignet } from '../support/signet';

/*
 * A newcomer's first start fails because another broker holds the MQTT port.
 * Bootstrap happens only once every listener is bound, so that start creates
 * nothing, and the next one (in the same data folder) bootstraps and shows a
 * key that works, over HTTP and MQTT.
 */

let backend: Backend;
let squatter: Server;
let signet: SignetProcess | undefined;

beforeAll(async () => {
  backend = await embeddedBackend();
  squatter = createServer();
  squatter.listen(0, '127.0.0.1');
  await once(squatter, 'listening');
});

afterAll(async () => {
  await signet?.close();
  await new Promise((resolve) => squatter.close(resolve));
  await backend.cleanup();
});

it('a first start that fails on a taken MQTT port uses up nothing: the next start prints a working bootstrap key', async () => {
  const taken = (squatter.address() as AddressInfo).port;
  await expect(startSignet(backend, { SIGNET_MQTT_PORT: String(taken) })).rejects.toThrow(/SIGNET_MQTT_PORT/);

  signet = await startSignet(backend);
  const keyLine = signet.banner.findIndex((line) => line.startsWith('Bootstrap API key for '));
  expect(keyLine).toBeGreaterThanOrEqual(0);
  const key = signet.banner[keyLine + 1];
  expect(key).toMatch(/^sk_/);
  const orgId = /for (org_[a-z0-9]+)/.exec(signet.banner[keyLine])![1];

  const keys = await fetch(`http://127.0.0.1:${signet.ports.http}/v1/keys`, { headers: { authorization: `Bearer ${key}` } });
  expect(keys.status).toBe(200);
  const client = await connect(`mqtt://127.0.0.1:${signet.ports.mqtt}`, { username: `bootstrap@${orgId}`, password: key, protocolVersion: 5 });
  expect(client.connected).toBe(true);
  client.end(true);
});
