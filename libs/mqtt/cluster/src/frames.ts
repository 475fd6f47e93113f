import type { ClusterMessage, SessionRecord } from './types';

/** The separator inside text frames and keys: org ids, client ids and filters cannot hold U+0000 [MQTT-1.5.4-2]. */
export const SEP = '\u0000';

const MESSAGE = 0x4d; // 'M'
const BATCH = 0x42; // 'B'
export const TAKEOVER = 'T';
export const ROUTE = 'R';
export const GONE = 'D';
/** An administrative kick for one client id, sent to the inbox of the edge that holds it. */
export const KICK = 'K';
/**
 * A message from a stored session's durable queue for the edge holding its client id, written by Redis
 * (redis-session-store.ts): `Q`, then client id, queue ref and QoS separated by SEP, SEP, the message frame.
 */
export const DURABLE = 'Q';

const KINDS = new Set(['token', 'api_key', 'certificate', 'webhook', 'ldap']);
const TRANSPORTS = new Set(['tcp', 'tls', 'ws', 'wss']);

/** A session registry entry as stored beside its claim. */
export function encodeSession(record: SessionRecord): string {
  return JSON.stringify(record);
}

/** The inverse of encodeSession; null for what is not one (an entry written by another version, or garbage). */
export function decodeSession(text: string | null | undefined): SessionRecord | null {
  if (!text) return null;
  let r: Partial<SessionRecord>;
  try {
    r = JSON.parse(text) as Partial<SessionRecord>;
  } catch {
    return null;
  }
  const strings = [r.clientId, r.userId, r.username, r.credentialId, r.edgeId, r.address];
  if (strings.some((v) => typeof v !== 'string') || !KINDS.has(r.credentialKind as string) || !TRANSPORTS.has(r.transport as string)) return null;
  if ((r.protocolVersion !== 3 && r.protocolVersion !== 4 && r.protocolVersion !== 5) || typeof r.connectedAt !== 'number') return null;
  return r as SessionRecord;
}

interface Header {
  o: string;
  t: string;
  q: 0 | 1 | 2;
  r: 0 | 1;
  p?: Record<string, unknown>;
  x?: number;
  s?: string[];
  n?: 1;
  k?: string[];
}

/** Buffers inside properties (correlation data) survive JSON as {type:'Buffer',data}; revived here. */
function revive(_key: string, value: unknown): unknown {
  if (value !== null && typeof value === 'object') {
    const v = value as { type?: unknown; data?: unknown };
    if (v.type === 'Buffer' && Array.isArray(v.data)) return Buffer.from(v.data as number[]);
  }
  return value;
}

/** An inbox message: `M`, the header length (u32), the JSON header, the payload bytes as they are. */
export function encodeMessage(orgId: string, message: ClusterMessage): Buffer {
  const header: Header = { o: orgId, t: message.topic, q: message.qos, r: message.retain ? 1 : 0 };
  if (message.properties !== undefined) header.p = message.properties as Record<string, unknown>;
  if (message.ttlMs !== undefined) header.x = message.ttlMs;
  if (message.shared !== undefined) header.s = message.shared as string[];
  if (message.subscribers === false) header.n = 1;
  if (message.skip !== undefined && message.skip.length > 0) header.k = message.skip as string[];
  const head = Buffer.from(JSON.stringify(header));
  const out = Buffer.allocUnsafe(5 + head.length + message.payload.length);
  out[0] = MESSAGE;
  out.writeUInt32BE(head.length, 1);
  head.copy(out, 5);
  message.payload.copy(out, 5 + head.length);
  return out;
}

/** The inverse of encodeMessage; null for anything else (a takeover frame, or garbage on the channel). */
export function decodeMessage(frame: Buffer): { orgId: string; message: ClusterMessage } | null {
  if (frame.length < 5 || frame[0] !== MESSAGE) return null;
  const length = frame.readUInt32BE(1);
  if (5 + length > frame.length) return null;
  let header: Header;
  try {
    header = JSON.parse(frame.toString('utf8', 5, 5 + length), revive) as Header;
  } catch {
    return null;
  }
  if (typeof header.o !== 'string' || typeof header.t !== 'string' || (header.q !== 0 && header.q !== 1 && header.q !== 2)) return null;
  const message: ClusterMessage = {
    topic: header.t,
    payload: frame.subarray(5 + length),
    qos: header.q,
    retain: header.r === 1,
    ...(header.p !== undefined && typeof header.p === 'object' ? { properties: header.p } : {}),
    ...(typeof header.x === 'number' ? { ttlMs: header.x } : {}),
    ...(Array.isArray(header.s) && header.s.every((g) => typeof g === 'string') ? { shared: header.s } : {}),
    ...(header.n === 1 ? { subscribers: false } : {}),
    ...(Array.isArray(header.k) && header.k.every((c) => typeof c === 'string') ? { skip: header.k } : {}),
  };
  return { orgId: header.o, message };
}

/** Several inbox frames as one Redis message: `B`, then each frame as its length (u32) and its bytes. */
export function encodeBatch(frames: readonly Buffer[]): Buffer {
  let size = 1;
  for (const f of frames) size += 4 + f.length;
  const out = Buffer.allocUnsafe(size);
  out[0] = BATCH;
  let at = 1;
  for (const f of frames) {
    out.writeUInt32BE(f.length, at);
    f.copy(out, at + 4);
    at += 4 + f.length;
  }
  return out;
}

/** The frames of a batch (views into it); a frame that is not a batch is its own only frame. */
export function splitBatch(frame: Buffer): Buffer[] {
  if (frame.length === 0 || frame[0] !== BATCH) return [frame];
  const frames: Buffer[] = [];
  let at = 1;
  while (at + 4 <= frame.length) {
    const length = frame.readUInt32BE(at);
    if (at + 4 + length > frame.length) break;
    frames.push(frame.subarray(at + 4, at + 4 + length));
    at += 4 + length;
  }
  return frames;
}

/** The inverse of the `Q` frame Redis writes (see DURABLE); null for anything else. */
export function decodeDurable(frame: Buffer): { clientId: string; ref: string; qos: 1 | 2; orgId: string; message: ClusterMessage } | null {
  if (frame.length < 1 || frame[0] !== DURABLE.charCodeAt(0) || frame[1] !== 0) return null;
  const fields: string[] = [];
  let at = 2;
  while (fields.length < 3) {
    const end = frame.indexOf(0, at);
    if (end < 0) return null;
    fields.push(frame.toString('utf8', at, end));
    at = end + 1;
  }
  const qos = Number(fields[2]);
  const decoded = decodeMessage(frame.subarray(at));
  if (decoded === null || (qos !== 1 && qos !== 2)) return null;
  return { clientId: fields[0], ref: fields[1], qos, orgId: decoded.orgId, message: decoded.message };
}
