import mqtt, { IClientOptions, MqttClient } from 'mqtt';

export type Transport = 'tcp' | 'ws';
export interface Endpoints {
  mqttPort: number;
  wsPort: number;
}

export const brokerUrl = (e: Endpoints, transport: Transport): string =>
  transport === 'tcp' ? `mqtt://127.0.0.1:${e.mqttPort}` : `ws://127.0.0.1:${e.wsPort}/mqtt`;

/** Thrown when the broker refuses a CONNECT; `code` is the CONNACK return/reason code. */
export class ConnectRefused extends Error {
  constructor(readonly code: number | undefined) {
    super(`connect refused with code ${code}`);
  }
}

/** Connects once (no reconnects) and resolves when CONNACK accepted. */
export function connect(url: string, options: IClientOptions): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    const client = mqtt.connect(url, { reconnectPeriod: 0, connectTimeout: 5000, ...options });
    client.once('connect', () => resolve(client));
    client.once('error', (err: Error & { code?: number }) => {
      client.end(true);
      reject(new ConnectRefused(typeof err.code === 'number' ? err.code : undefined));
    });
    client.once('close', () => reject(new ConnectRefused(undefined)));
  });
}

/** The CONNACK code of a refused CONNECT (fails the test if it was accepted). */
export async function refusalCode(url: string, options: IClientOptions): Promise<number | undefined> {
  try {
    const client = await connect(url, options);
    client.end(true);
  } catch (err) {
    if (err instanceof ConnectRefused) return err.code;
    throw err;
  }
  throw new Error('CONNECT was accepted');
}

/** The CONNACK code refusing these issued credentials. */
export const credentialsRefusal = (
  url: string,
  creds: { mqtt_credentials: { username: string; password: string } },
  protocolVersion: 4 | 5,
  extra: IClientOptions = {},
): Promise<number | undefined> =>
  refusalCode(url, { ...creds.mqtt_credentials, protocolVersion, ...extra });

/** Resolves when the server closes the connection, with the MQTT 5 DISCONNECT reason if one came. */
export function serverClosed(client: MqttClient): Promise<{ reasonCode?: number }> {
  return new Promise((resolve) => {
    let reasonCode: number | undefined;
    client.on('disconnect', (packet) => {
      reasonCode = packet.reasonCode;
    });
    client.once('close', () => resolve({ reasonCode }));
  });
}

/** Next message on a topic matching `predicate`, or rejects after `timeoutMs`. */
export function nextMessage(client: MqttClient, timeoutMs = 3000): Promise<{ topic: string; payload: string }> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      client.removeListener('message', onMessage);
      reject(new Error('no message'));
    }, timeoutMs);
    const onMessage = (topic: string, payload: Buffer) => {
      clearTimeout(timer);
      client.removeListener('message', onMessage);
      resolve({ topic, payload: payload.toString() });
    };
    client.on('message', onMessage);
  });
}

/** Asserts that nothing arrives within `ms`. */
export async function noMessage(client: MqttClient, ms = 300): Promise<void> {
  await expect(nextMessage(client, ms)).rejects.toThrow('no message');
}

/** SUBACK codes for one SUBSCRIBE (mqtt.js rejects subscribeAsync on a failure code; this does not). */
export function subscribeCodes(client: MqttClient, filter: string, qos: 0 | 1 | 2 = 0): Promise<number[]> {
  return new Promise((resolve, reject) => {
    client.subscribe(filter, { qos }, (err, granted) => {
      const packet = (err as (Error & { packet?: { granted?: number[] } }) | null)?.packet;
      if (packet?.granted) return resolve(packet.granted);
      if (err) return reject(err);
      resolve((granted ?? []).map((g) => g.qos));
    });
  });
}

/** The PUBACK reason code of a QoS 1 publish (0 when accepted; mqtt.js rejects on a failure code, this does not). */
export function publishCode(client: MqttClient, topic: string, payload: string): Promise<number> {
  return new Promise((resolve, reject) => {
    client.publish(topic, payload, { qos: 1 }, (err, packet) => {
      const code = (err as (Error & { code?: number }) | undefined)?.code;
      if (typeof code === 'number') return resolve(code);
      if (err) return reject(err);
      resolve((packet as { reasonCode?: number } | undefined)?.reasonCode ?? 0);
    });
  });
}
