import type { ClusterMessage, SessionRecord } from './types';

/** The separator inside text frames and keys: org ids, client ids and filters cannot hold U+0000 [MQTT-1.5.4-2]. */
export const SEP = '\u0000';

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

/** The JSON-header message frame of earlier versions: still read, as stored retained and queued messages may hold it. */
const JSON_MESSAGE = 0x4d; // 'M'
/** The message frame: a binary header (see encodeMessage). */
const MESSAGE = 0x6d; // 'm'

/** The flag bits above the QoS (bits 0–1): the RETAIN flag, not-for-subscribers, then the optional fields present. */
const [F_RETAIN, F_NO_SUBSCRIBERS, F_TTL, F_PROPERTIES, F_SHARED, F_SKIP] = [0x04, 0x08, 0x10, 0x20, 0x40, 0x80];

interface JsonHeader {
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

/** At most this many bytes for a string: 3 UTF-8 bytes per UTF-16 unit, plus its length. */
const room = (s: string): number => 2 + 3 * s.length;

function listRoom(list: readonly string[]): number {
  let n = 4;
  for (const s of list) n += room(s);
  return n;
}

/**
 * Writes `s` as its byte length (u16) and UTF-8 bytes, with room(s) free at `at`; MQTT strings, org ids and
 * filters fit in 65535 bytes. Short ASCII strings (topics, ids) are copied by hand: cheaper than a native call.
 */
function writeString(out: Buffer, at: number, s: string): number {
  const length = s.length;
  let n = 0;
  if (length <= 64) {
    while (n < length) {
      const c = s.charCodeAt(n);
      if (c > 0x7f) break;
      out[at + 2 + n++] = c;
    }
  }
  if (n < length) n = out.write(s, at + 2);
  if (n > 0xffff) throw new RangeError('cluster frame: string over 65535 bytes');
  out[at] = n >>> 8;
  out[at + 1] = n & 0xff;
  return at + 2 + n;
}

/** The org id written last, as bytes: the frames of a batch are mostly of one org. */
let lastOrg = '';
let lastOrgBytes = Buffer.alloc(0);

/** writeString for an org id: the bytes of the last one copied as they are. */
function writeOrg(out: Buffer, at: number, orgId: string): number {
  if (orgId !== lastOrg) {
    const bytes = Buffer.from(orgId);
    if (bytes.length > 0xffff) throw new RangeError('cluster frame: string over 65535 bytes');
    lastOrg = orgId;
    lastOrgBytes = bytes;
  }
  const n = lastOrgBytes.length;
  out[at] = n >>> 8;
  out[at + 1] = n & 0xff;
  out.set(lastOrgBytes, at + 2);
  return at + 2 + n;
}

function writeList(out: Buffer, at: number, list: readonly string[]): number {
  out.writeUInt32BE(list.length, at);
  at += 4;
  for (const s of list) at = writeString(out, at, s);
  return at;
}

/**
 * An inbox message, binary so neither side builds or parses JSON per message: `m`, flags (QoS in bits 0–1,
 * then retain, not-for-subscribers, and which optional fields follow), org and topic (u16 length + UTF-8),
 * then if flagged: the TTL (f64: stored frames hold an absolute time), properties (u32 length + JSON: 5.0
 * only, Buffers revived), shared groups and skipped client ids (u32 count, u16-length strings), and the
 * payload bytes as they are, to the end.
 */
export function encodeMessage(orgId: string, message: ClusterMessage): Buffer {
  return encode(orgId, message, null);
}

/** encodeMessage into a batch: the frame is then `into.buffer` from `into.lastStart` to `into.lastEnd`. */
export function writeMessage(into: BatchWriter, orgId: string, message: ClusterMessage): void {
  encode(orgId, message, into);
}

function encode(orgId: string, message: ClusterMessage, into: BatchWriter | null): Buffer {
  const { topic, payload, properties, ttlMs, shared, skip } = message;
  let flags = message.qos | (message.retain ? F_RETAIN : 0) | (message.subscribers === false ? F_NO_SUBSCRIBERS : 0);
  // An upper bound: the strings' exact UTF-8 lengths are known once written.
  let size = 2 + room(orgId) + room(topic) + payload.length;
  let props: Buffer | null = null;
  if (ttlMs !== undefined) {
    flags |= F_TTL;
    size += 8;
  }
  if (properties !== undefined) {
    flags |= F_PROPERTIES;
    props = Buffer.from(JSON.stringify(properties));
    size += 4 + props.length;
  }
  if (shared !== undefined) {
    flags |= F_SHARED;
    size += listRoom(shared);
  }
  const skipped = skip !== undefined && skip.length > 0;
  if (skipped) {
    flags |= F_SKIP;
    size += listRoom(skip);
  }
  const base = into === null ? 0 : into.reserve(size);
  const out = into === null ? Buffer.allocUnsafe(size) : into.buffer;
  out[base] = MESSAGE;
  out[base + 1] = flags;
  let at = writeOrg(out, base + 2, orgId);
  at = writeString(out, at, topic);
  if (ttlMs !== undefined) at = out.writeDoubleBE(ttlMs, at);
  if (props !== null) {
    out.writeUInt32BE(props.length, at);
    at += 4 + props.copy(out, at + 4);
  }
  if (shared !== undefined) at = writeList(out, at, shared);
  if (skipped) at = writeList(out, at, skip);
  // TypedArray set: a memmove, without Buffer.copy's argument checks.
  out.set(payload, at);
  at += payload.length;
  if (into === null) return out.subarray(0, at);
  into.commit(base, at - base);
  return out;
}

/** Reads a binary frame within [at, end); throws RangeError when it is cut short (the caller's null). */
class Reader {
  constructor(
    readonly frame: Buffer,
    public at: number,
    readonly end: number,
  ) {}

  skip(n: number): number {
    const at = this.at;
    if (at + n > this.end) throw new RangeError('cluster frame: cut short');
    this.at = at + n;
    return at;
  }

  string(): string {
    const n = this.frame.readUInt16BE(this.skip(2));
    const at = this.skip(n);
    return this.frame.toString('utf8', at, at + n);
  }

  list(): string[] {
    const count = this.frame.readUInt32BE(this.skip(4));
    if (count > this.end - this.at) throw new RangeError('cluster frame: cut short');
    const list = new Array<string>(count);
    for (let i = 0; i < count; i++) list[i] = this.string();
    return list;
  }
}

/** What a batch is kept near (BatchWriter): bigger ones cost copies in Redis's client and reader. */
const BATCH_BYTES = 64 * 1024;

/**
 * The strings of recent frames (org ids, topics) by their bytes: a frame's org id and topic are mostly ones
 * seen just before, so they are compared in place, not decoded again; and the same string each time is one
 * whose hash the edge's maps already know. Direct-mapped by a hash of the length and a few bytes (the last
 * ones, where topics of one kind differ most), for strings of at most SLOT bytes.
 */
class StringCache {
  private static readonly SLOTS = 512;
  private static readonly SLOT = 64;
  private readonly bytes = Buffer.alloc(StringCache.SLOTS * StringCache.SLOT);
  private readonly lengths = new Int32Array(StringCache.SLOTS).fill(-1);
  private readonly texts: string[] = new Array<string>(StringCache.SLOTS).fill('');
  private last = 0;

  read(frame: Buffer, at: number, n: number): string {
    if (n > StringCache.SLOT) return frame.toString('utf8', at, at + n);
    // The string read last first: mostly the one of the frame before.
    if (this.same(this.last, frame, at, n)) return this.texts[this.last];
    let h = n;
    const end = at + n;
    for (let i = end - (n < 6 ? n : 6); i < end; i++) h = (Math.imul(h, 31) + frame[i]) | 0;
    if (n > 6) h = (Math.imul(h, 31) + frame[at + (n >> 1)]) | 0;
    const slot = (h ^ (h >>> 9)) & (StringCache.SLOTS - 1);
    this.last = slot;
    if (this.same(slot, frame, at, n)) return this.texts[slot];
    const text = frame.toString('utf8', at, end);
    frame.copy(this.bytes, slot * StringCache.SLOT, at, end);
    this.lengths[slot] = n;
    this.texts[slot] = text;
    return text;
  }

  private same(slot: number, frame: Buffer, at: number, n: number): boolean {
    if (this.lengths[slot] !== n) return false;
    const bytes = this.bytes;
    const base = slot * StringCache.SLOT;
    let i = n - 1;
    // From the end: where strings of one kind differ most.
    while (i >= 0 && bytes[base + i] === frame[at + i]) i--;
    return i < 0;
  }
}

/**
 * One cache per kind of string: a frame's org id and its topic each mostly repeat the previous frame's, which
 * `read` compares first; with one cache for both, that first compare always met the other kind.
 */
const orgIds = new StringCache();
const topics = new StringCache();

/**
 * decodeMessage of a binary frame without the pair: the org id goes to `org.orgId`. Read in place, the
 * payload a view of `frame`; the optional fields, rare, through a Reader.
 */
export function decodeFrame(frame: Buffer, start: number, end: number, org: { orgId: string }): ClusterMessage | null {
  if (frame[start] !== MESSAGE || end - start < 6) return null;
  const flags = frame[start + 1];
  const qos = flags & 3;
  if (qos === 3) return null;
  let at = start + 2;
  const orgLength = (frame[at] << 8) | frame[at + 1];
  at += 2;
  if (at + orgLength + 2 > end) return null;
  const orgId = orgIds.read(frame, at, orgLength);
  at += orgLength;
  const topicLength = (frame[at] << 8) | frame[at + 1];
  at += 2;
  if (at + topicLength > end) return null;
  const topic = topics.read(frame, at, topicLength);
  at += topicLength;
  const message: { -readonly [K in keyof ClusterMessage]: ClusterMessage[K] } = { topic, payload: frame, qos: qos as 0 | 1 | 2, retain: (flags & F_RETAIN) !== 0 };
  if ((flags & (F_TTL | F_PROPERTIES | F_SHARED | F_SKIP)) !== 0) {
    try {
      const r = new Reader(frame, at, end);
      if ((flags & F_TTL) !== 0) message.ttlMs = frame.readDoubleBE(r.skip(8));
      if ((flags & F_PROPERTIES) !== 0) {
        const n = frame.readUInt32BE(r.skip(4));
        const p = r.skip(n);
        const properties = JSON.parse(frame.toString('utf8', p, p + n), revive) as unknown;
        if (properties !== null && typeof properties === 'object') message.properties = properties as Record<string, unknown>;
      }
      if ((flags & F_SHARED) !== 0) message.shared = r.list();
      if ((flags & F_SKIP) !== 0) message.skip = r.list();
      at = r.at;
    } catch {
      return null;
    }
  }
  if ((flags & F_NO_SUBSCRIBERS) !== 0) message.subscribers = false;
  // A view: the payload is read in place, in the received batch.
  message.payload = frame.subarray(at, end);
  org.orgId = orgId;
  return message;
}

function decodeJson(frame: Buffer): { orgId: string; message: ClusterMessage } | null {
  if (frame.length < 5) return null;
  const length = frame.readUInt32BE(1);
  if (5 + length > frame.length) return null;
  let header: JsonHeader;
  try {
    header = JSON.parse(frame.toString('utf8', 5, 5 + length), revive) as JsonHeader;
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

/** The inverse of encodeMessage (and of the JSON frames before it); null for anything else (a takeover frame, or garbage). */
export function decodeMessage(frame: Buffer, start = 0, end = frame.length): { orgId: string; message: ClusterMessage } | null {
  if (frame[start] === MESSAGE) {
    const org = { orgId: '' };
    const message = decodeFrame(frame, start, end, org);
    return message === null ? null : { orgId: org.orgId, message };
  }
  if (frame[start] === JSON_MESSAGE) return decodeJson(start === 0 && end === frame.length ? frame : frame.subarray(start, end));
  return null;
}

/**
 * Several inbox frames as one Redis message, built in place as they come: `B`, then each frame as its
 * length (u32) and its bytes. A frame that does not fit starts another batch rather than copying this one
 * into a bigger buffer; batches stay near BATCH_BYTES, which Redis's reader also gets in few pieces. `take`
 * hands them over; the next frame starts a new buffer, as Redis may still be writing the old ones. Each
 * buffer keeps `head` bytes free before its batch and `tail` after it, where the sender writes its command
 * around the batch instead of copying the batch into one (takeFramed).
 */
export class BatchWriter {
  private buf: Buffer | null = null;
  private used = 0;
  private full: Buffer[] = [];
  private fullEnds: number[] = [];
  /** Buffers handed back (release) once their batch is sent: reused, as allocating a batch-sized one each turn costs the GC. */
  private readonly spare: Buffer[] = [];
  /** The size new buffers get: what recent turns needed, so a steady load fills one per turn. */
  private hint = 1024;
  /** Frames since the last take. */
  count = 0;
  /** Where the last frame written by writeMessage is in `buffer`. */
  lastStart = 0;
  lastEnd = 0;

  constructor(
    private readonly head = 0,
    private readonly tail = 0,
  ) {}

  /** The buffer the last reserve() was in. */
  get buffer(): Buffer {
    return this.buf!;
  }

  /** Room for a frame of (at most, see commit) `size` bytes, its length written: returns where in `buffer` its bytes go. */
  reserve(size: number): number {
    if (this.buf === null || this.used + 4 + size + this.tail > this.buf.length) this.start(size);
    const buf = this.buf!;
    buf.writeUInt32BE(size, this.used);
    const at = this.used + 4;
    this.used = at + size;
    this.count++;
    return at;
  }

  /** The frame reserved at `at` took `size` bytes (at most what was reserved): the rest is free again. */
  commit(at: number, size: number): void {
    this.buf!.writeUInt32BE(size, at - 4);
    this.used = this.lastEnd = at + size;
    this.lastStart = at;
  }

  /** Copies a frame in (one written for another edge already: `from` between `start` and `end`). */
  push(from: Buffer, start = 0, end = from.length): void {
    const at = this.reserve(end - start);
    from.copy(this.buf!, at, start, end);
  }

  /** The batches so far (none when empty). */
  take(): Buffer[] {
    const out: Buffer[] = [];
    this.takeFramed((buffer, start, end) => out.push(buffer.subarray(start, end)));
    return out;
  }

  /**
   * Hands over each batch so far as its buffer and bounds: `head` bytes before `start` and `tail` after `end`
   * are the caller's to write.
   */
  takeFramed(each: (buffer: Buffer, start: number, end: number) => void): void {
    const { full, fullEnds, head } = this;
    if (this.buf !== null) {
      full.push(this.buf);
      fullEnds.push(this.used);
    }
    let bytes = 0;
    for (const end of fullEnds) bytes += end - head;
    // Up at once, down slowly: a quieter turn does not shrink the next busy one's buffer.
    this.hint = Math.min(BATCH_BYTES, Math.max(1024, bytes, this.hint - (this.hint >> 3)));
    this.full = [];
    this.fullEnds = [];
    this.buf = null;
    this.used = 0;
    this.count = 0;
    for (let i = 0; i < full.length; i++) each(full[i], head, fullEnds[i]);
  }

  /** A buffer of takeFramed is no longer read (its command was answered): the writer may fill it again. */
  release(buffer: Buffer): void {
    if (this.spare.length < 4 && buffer.length >= this.head + this.hint + this.tail) this.spare.push(buffer);
  }

  private start(size: number): void {
    if (this.buf !== null) {
      this.full.push(this.buf);
      this.fullEnds.push(this.used);
    }
    const length = this.head + Math.max(5 + size, this.hint) + this.tail;
    let buf = this.spare.pop();
    if (buf === undefined || buf.length < length) buf = Buffer.allocUnsafe(length);
    buf[this.head] = BATCH;
    this.buf = buf;
    this.used = this.head + 1;
  }
}

/**
 * Calls `each` with the bounds of every frame in a batch, read in place; a frame that is not a batch is its
 * own only frame.
 */
export function eachFrame(frame: Buffer, each: (frame: Buffer, start: number, end: number) => void): void {
  if (frame.length === 0 || frame[0] !== BATCH) return each(frame, 0, frame.length);
  let at = 1;
  while (at + 4 <= frame.length) {
    const end = at + 4 + frame.readUInt32BE(at);
    if (end > frame.length) break;
    each(frame, at + 4, end);
    at = end;
  }
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
