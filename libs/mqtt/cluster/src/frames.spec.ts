import { decodeMessage, decodeSession, encodeBatch, encodeMessage, encodeSession, splitBatch } from './frames';
import type { ClusterMessage, SessionRecord } from './types';

describe('inbox frames', () => {
  const base: ClusterMessage = { topic: 'jobs/1', payload: Buffer.from([0, 1, 2, 0xff]), qos: 1, retain: false };

  it.each<[string, ClusterMessage]>([
    ['a plain message', base],
    ['properties with a Buffer, and an expiry', { ...base, retain: true, properties: { correlationData: Buffer.from('c') }, ttlMs: 1500 }],
    ['the shared groups it serves', { ...base, shared: ['$share/w/jobs/#', '$share/x/jobs/+'] }],
    ['shared groups only', { ...base, shared: ['$share/w/jobs/#'], subscribers: false }],
    ['no shared group to serve', { ...base, shared: [] }],
  ])('round-trips %s', (_name, message) => {
    const decoded = decodeMessage(encodeMessage('org_a', message));
    expect(decoded).toEqual({ orgId: 'org_a', message });
  });

  it('refuses what is not an inbox message, and a shared list that is not strings', () => {
    expect(decodeMessage(Buffer.from('T\u0000x'))).toBeNull();
    const head = Buffer.from(JSON.stringify({ o: 'org_a', t: 't', q: 0, r: 0, s: [1] }));
    const frame = Buffer.concat([Buffer.from([0x4d, 0, 0, 0, head.length]), head]);
    expect(decodeMessage(frame)?.message.shared).toBeUndefined();
  });

  it('splits a batch into its frames', () => {
    const frames = [encodeMessage('o', base), encodeMessage('o', { ...base, topic: 'jobs/2' })];
    expect(splitBatch(encodeBatch(frames)).map((f) => decodeMessage(f)?.message.topic)).toEqual(['jobs/1', 'jobs/2']);
  });
});

describe('session registry entries', () => {
  const record: SessionRecord = {
    clientId: 'dev-1',
    userId: 'alice',
    username: 'alice@org_1',
    credentialKind: 'api_key',
    credentialId: 'key_1',
    edgeId: 'edge-a',
    address: '::1',
    transport: 'wss',
    protocolVersion: 4,
    connectedAt: 1_700_000_000_000,
  };

  it('round-trip', () => {
    expect(decodeSession(encodeSession(record))).toEqual(record);
  });

  it('decode to null when they are not one (another version, garbage)', () => {
    for (const text of [null, '', '{', '[]', JSON.stringify({ ...record, transport: 'udp' }), JSON.stringify({ ...record, protocolVersion: 6 }), JSON.stringify({ ...record, clientId: 7 })]) {
      expect(decodeSession(text)).toBeNull();
    }
  });
});
