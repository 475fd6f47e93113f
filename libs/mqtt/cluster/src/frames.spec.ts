import { BatchWriter, decodeDurable, decodeFrame, decodeMessage, decodeSession, eachFrame, encodeMessage, encodeSession, writeMessage } from './frames';
import type { ClusterMessage, SessionRecord } from './types';

describe('inbox frames', () => {
  const base: ClusterMessage = { topic: 'jobs/1', payload: Buffer.from([0, 1, 2, 0xff]), qos: 1, retain: false };

  it.each<[string, ClusterMessage]>([
    ['a plain message', base],
    ['properties with a Buffer, and an expiry', { ...base, retain: true, properties: { correlationData: Buffer.from('c') }, ttlMs: 1500 }],
    ['the shared groups it serves', { ...base, shared: ['$share/w/jobs/#', '$share/x/jobs/+'] }],
    ['shared groups only', { ...base, shared: ['$share/w/jobs/#'], subscribers: false }],
    ['no shared group to serve', { ...base, shared: [] }],
    ['the stored sessions to skip', { ...base, skip: ['dev-1', 'dév-2'] }],
    ['every field at once', { ...base, qos: 2, retain: true, properties: { userProperties: { a: 'b' }, contentType: 'x' }, ttlMs: 1_700_000_000_123, shared: ['$share/w/jobs/#'], subscribers: false, skip: ['c'] }],
    ['QoS 0, an empty payload, a UTF-8 topic', { ...base, qos: 0, topic: 'jöbs/€/1', payload: Buffer.alloc(0) }],
    ['long topics, ASCII or not', { ...base, topic: 'a/'.repeat(60) + 'é', shared: ['$share/g/' + 'b'.repeat(200)] }],
  ])('round-trips %s', (_name, message) => {
    const decoded = decodeMessage(encodeMessage('org_a', message));
    expect(decoded).toEqual({ orgId: 'org_a', message });
  });

  it('reads the org id of each frame, whether or not it is the last one read', () => {
    for (const org of ['org_a', 'org_b', 'org_b', 'org_bb', 'orgé', 'org_a']) expect(decodeMessage(encodeMessage(org, base))?.orgId).toBe(org);
  });

  it('leaves an empty skip list out', () => {
    expect(decodeMessage(encodeMessage('org_a', { ...base, skip: [] }))).toEqual({ orgId: 'org_a', message: base });
  });

  it('refuses what is not an inbox message, and frames cut short', () => {
    expect(decodeMessage(Buffer.from('T\u0000x'))).toBeNull();
    const frame = encodeMessage('org_a', { ...base, shared: ['$share/w/#'], skip: ['c'] });
    const payloadStart = frame.length - base.payload.length;
    for (let n = 1; n < payloadStart; n++) expect(decodeMessage(frame.subarray(0, n))).toBeNull();
  });

  it('still reads the JSON-header frames of earlier versions (stored retained and queued messages)', () => {
    const head = Buffer.from(JSON.stringify({ o: 'org_a', t: 'jobs/1', q: 1, r: 1, x: 5, p: { correlationData: { type: 'Buffer', data: [99] } }, k: ['c'] }));
    const frame = Buffer.concat([Buffer.from([0x4d, 0, 0, 0, head.length]), head, base.payload]);
    expect(decodeMessage(frame)).toEqual({ orgId: 'org_a', message: { ...base, retain: true, ttlMs: 5, properties: { correlationData: Buffer.from('c') }, skip: ['c'] } });
    const bad = Buffer.from(JSON.stringify({ o: 'org_a', t: 't', q: 0, r: 0, s: [1] }));
    expect(decodeMessage(Buffer.concat([Buffer.from([0x4d, 0, 0, 0, bad.length]), bad]))?.message.shared).toBeUndefined();
  });

  it('batches frames in place and reads them in place', () => {
    const writer = new BatchWriter();
    writeMessage(writer, 'o', base);
    const [buffer, start, end] = [writer.buffer, writer.lastStart, writer.lastEnd];
    const first = Buffer.from(buffer.subarray(start, end));
    expect(first).toEqual(encodeMessage('o', base));
    for (let i = 2; i <= 300; i++) writeMessage(writer, 'o', { ...base, topic: `jobs/${i}` });
    writer.push(buffer, start, end);
    writeMessage(writer, 'o', { ...base, topic: 'big', payload: Buffer.alloc(100_000, 7) });
    expect(writer.count).toBe(302);
    const batches = writer.take();
    expect(writer.take()).toEqual([]);
    expect(batches.length).toBeGreaterThan(1);
    const topics: string[] = [];
    for (const batch of batches) eachFrame(batch, (f, s, e) => topics.push(decodeMessage(f, s, e)!.message.topic));
    expect(topics).toEqual([...Array.from({ length: 300 }, (_, i) => `jobs/${i + 1}`), 'jobs/1', 'big']);
    const seen: Buffer[] = [];
    eachFrame(first, (f, start, end) => seen.push(f.subarray(start, end)));
    expect(seen).toEqual([first]);
  });

  it('reads each org id and topic right among many alike (same ends, lengths, long ones, UTF-8), seen again or not', () => {
    const names = [
      ...Array.from({ length: 1500 }, (_, i) => `dev/${i}/x`),
      ...Array.from({ length: 40 }, (_, i) => `${String.fromCharCode(97 + (i % 26))}${i}/same/tail`),
      ...Array.from({ length: 20 }, (_, i) => `${'z'.repeat(60 + i)}/${i}`),
      'é/€', 'e/€', 'ab', 'ba', 'a', '',
    ];
    const org = { orgId: '' };
    for (let round = 0; round < 2; round++) {
      for (const [i, name] of names.entries()) {
        const frame = encodeMessage(names[(i * 7) % names.length], { ...base, topic: name });
        const message = decodeFrame(frame, 0, frame.length, org);
        expect([org.orgId, message?.topic]).toEqual([names[(i * 7) % names.length], name]);
      }
    }
  });

  it('keeps room around each batch for its command, and fills a released buffer again', () => {
    const writer = new BatchWriter(10, 2);
    for (let i = 0; i < 3; i++) writeMessage(writer, 'o', { ...base, topic: `a/${i}` });
    const parts: [Buffer, number, number][] = [];
    writer.takeFramed((buffer, start, end) => parts.push([buffer, start, end]));
    expect(parts).toHaveLength(1);
    const [buffer, start, end] = parts[0];
    expect(start).toBe(10);
    expect(buffer.length).toBeGreaterThanOrEqual(end + 2);
    buffer.fill(0xee, 0, start);
    buffer.fill(0xee, end, end + 2);
    const topics: string[] = [];
    eachFrame(buffer.subarray(start, end), (f, s, e) => topics.push(decodeMessage(f, s, e)!.message.topic));
    expect(topics).toEqual(['a/0', 'a/1', 'a/2']);
    writer.release(buffer);
    writeMessage(writer, 'o', base);
    expect(writer.buffer).toBe(buffer);
    const [again] = writer.take();
    expect(decodeMessage(again, 5)?.message).toEqual(base);
  });

  it('reads a durable frame as Redis writes it', () => {
    const message = { ...base, skip: ['x'] };
    const frame = Buffer.concat([Buffer.from('Q\u0000dev-1\u00001-0\u00002\u0000'), encodeMessage('org_a', message)]);
    expect(decodeDurable(frame)).toEqual({ clientId: 'dev-1', ref: '1-0', qos: 2, orgId: 'org_a', message });
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
