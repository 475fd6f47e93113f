/**
 * Shared setup of the MQTT 5.0 conformance specs (`mqtt5-*.spec.ts`, one edge per file): real `mqtt`
 * clients with exact grants, and a raw 5.0 connection for what a well-behaved client library will not
 * send or hides (packet bytes, properties, reason codes). Table: docs/conformance/mqtt-5.0.md.
 */
import type { IClientOptions, MqttClient } from 'mqtt';
import type { IConnectPacket, Packet } from 'mqtt-packet';
import type { EdgeLimits } from '../core/limits';
import {
  closesWithin,
  connect,
  decodeAll,
  encodePacket,
  endAllClients,
  openRaw,
  ORG_A,
  useEdge,
  waitFor,
  type RawConnection,
  unique,
  type TestEdge,
} from '../testing/helpers';

export { unique };

/**
 * One edge for the spec file: started before its tests (handed to `set`), its raw and `mqtt` clients
 * ended after each test, closed after all.
 */
export function useEdge5(set: (edge: TestEdge) => void, limits: Partial<EdgeLimits> = {}): void {
  useEdge(set, limits);
  afterEach(async () => {
    destroyRaw5();
    await endAllClients();
  });
}


/** A 5.0 client of `org` granted exactly `grants` (publish and subscribe), under a fresh credential unless the options name one. */
export function client5(
  t: TestEdge,
  grants: string[],
  options: IClientOptions = {},
  setup?: (c: MqttClient) => void,
  org = ORG_A,
): Promise<MqttClient> {
  return connect(
    t.url('tcp'),
    5,
    { username: `${unique('u')}@${org}`, password: `grants:${unique('cred_')}:${grants.join(',')}`, ...options },
    setup,
  );
}

/** SUBACK reason codes (mqtt.js reports failure codes as an error carrying the packet). */
export function subscribe(c: MqttClient, filter: string, qos: 0 | 1 | 2 = 0, extra: object = {}): Promise<number[]> {
  return new Promise((resolve) => {
    c.subscribe(filter, { qos, ...extra }, (err, granted) => {
      const packet = (err as { packet?: { granted?: number[] } } | null)?.packet;
      resolve(packet?.granted ?? (granted ?? []).map((g) => g.qos));
    });
  });
}

/** Resolves once acknowledged (QoS 0: once written); the reason code of a negative acknowledgement, else undefined. */
export function publish(c: MqttClient, topic: string, payload: string | Buffer, options: object = {}): Promise<number | undefined> {
  return new Promise((resolve) =>
    c.publish(topic, payload, options, (err) => resolve(err ? ((err as { code?: number }).code ?? -1) : undefined)),
  );
}

/** A raw 5.0 TCP connection past CONNACK (or refused: check `connack()`). */
export interface Raw5 {
  conn: RawConnection;
  /** Every packet the server sent so far, decoded. */
  packets(): Packet[];
  /** Packets of one type so far. */
  all<P extends Packet>(cmd: P['cmd']): P[];
  /** Waits for the `n`-th packet of a type (1-based) and returns it. */
  next<P extends Packet>(cmd: P['cmd'], n?: number, timeoutMs?: number): Promise<P>;
  send(packet: Packet): void;
  /** The reason code of the DISCONNECT sent before the server closed (-1: closed without one). */
  serverDisconnect(timeoutMs?: number): Promise<number>;
}

export function raw5Of(conn: RawConnection): Raw5 {
  const packets = (): Packet[] => decodeAll(conn.received(), 5);
  const all = <P extends Packet>(cmd: P['cmd']): P[] => packets().filter((p) => p.cmd === cmd) as P[];
  return {
    conn,
    packets,
    all,
    async next<P extends Packet>(cmd: P['cmd'], n = 1, timeoutMs = 3000): Promise<P> {
      await waitFor(() => all(cmd).length >= n, timeoutMs, `${cmd} #${n}`);
      return all<P>(cmd)[n - 1];
    },
    send: (packet) => conn.send(encodePacket(packet, 5)),
    async serverDisconnect(timeoutMs = 3000): Promise<number> {
      if (!(await closesWithin(conn, timeoutMs))) throw new Error('the server did not close the connection');
      const d = all<Packet & { reasonCode?: number }>('disconnect')[0];
      return d === undefined ? -1 : (d.reasonCode ?? 0);
    },
  };
}

/**
 * Opens a raw 5.0 connection and sends CONNECT (granted `grants`, a fresh client id and credential
 * unless `connect` names them); waits for the CONNACK unless `waitConnack` is false.
 */
const opened = new Set<RawConnection>();

/** Destroys every raw connection `raw5` opened (afterEach), so none outlives its test. */
export function destroyRaw5(): void {
  for (const conn of opened) conn.destroy();
  opened.clear();
}

export async function raw5(
  t: TestEdge,
  grants: string[],
  connectFields: Partial<IConnectPacket> = {},
  waitConnack = true,
): Promise<Raw5> {
  const conn = await openRaw(t, 'tcp');
  opened.add(conn);
  const r = raw5Of(conn);
  r.send({
    cmd: 'connect',
    protocolId: 'MQTT',
    protocolVersion: 5,
    clean: true,
    keepalive: 60,
    clientId: unique('raw-'),
    username: `${unique('r')}@${ORG_A}`,
    password: Buffer.from(`grants:${unique('cred_')}:${grants.join(',')}`),
    ...connectFields,
  } as IConnectPacket);
  if (waitConnack) await r.next('connack');
  return r;
}
