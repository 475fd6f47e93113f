export type FrameError = 'malformed' | 'too_large';

/**
 * Splits a byte stream into whole MQTT control packets using only the fixed
 * header (type byte + Remaining Length, §2.2), before any decoding. This lets
 * the edge refuse an oversized packet as soon as its header arrives, without
 * buffering it, and lets every connection share one decoder (codec.ts), as a
 * decoder then only ever sees complete packets.
 *
 * It is a base class rather than a member object to save one object per
 * connection.
 */
export abstract class FrameReader {
  /** Pieces of an incomplete packet (or, with rxNeed 0, an incomplete fixed header). */
  private rxParts: Buffer[] | null = null;
  private rxHave = 0;
  private rxNeed = 0;

  /** Largest packet accepted, header included. */
  protected abstract frameLimit(): number;
  /** One complete packet; it may be a view into the received chunk. Return false to stop reading. */
  protected abstract onFrame(frame: Buffer): boolean;
  protected abstract onFrameError(error: FrameError): void;

  /** Bytes held for an incomplete packet. */
  protected get pendingBytes(): number {
    return this.rxParts === null ? 0 : this.rxHave;
  }

  protected readFrames(chunk: Buffer): void {
    if (this.rxParts !== null) {
      if (this.rxNeed === 0) {
        // Only a few header bytes were pending: join them (≤ 4 bytes) with the chunk.
        chunk = Buffer.concat([this.rxParts[0], chunk]);
        this.rxParts = null;
        this.rxHave = 0;
      } else {
        const take = Math.min(this.rxNeed - this.rxHave, chunk.length);
        this.rxParts.push(take === chunk.length ? chunk : chunk.subarray(0, take));
        this.rxHave += take;
        if (this.rxHave < this.rxNeed) return;
        const frame = Buffer.concat(this.rxParts, this.rxNeed);
        this.rxParts = null;
        this.rxHave = 0;
        this.rxNeed = 0;
        if (!this.onFrame(frame)) return;
        if (take === chunk.length) return;
        chunk = chunk.subarray(take);
      }
    }
    const len = chunk.length;
    let off = 0;
    while (off < len) {
      // Read per frame: the limit before CONNECT is smaller than the one after it, in the same chunk.
      const limit = this.frameLimit();
      // Remaining Length: variable byte integer of at most 4 bytes (§1.5.5).
      let value = 0;
      let mul = 1;
      let i = off + 1;
      let done = false;
      const end = Math.min(len, off + 5);
      for (; i < end; i++) {
        const b = chunk[i];
        value += (b & 0x7f) * mul;
        mul *= 128;
        if ((b & 0x80) === 0) {
          done = true;
          i++;
          break;
        }
      }
      if (!done) {
        if (i - off - 1 >= 4) {
          this.onFrameError('malformed');
          return;
        }
        // Header split across chunks: keep a copy of these few bytes, not a view pinning the chunk.
        this.rxParts = [Buffer.from(chunk.subarray(off))];
        this.rxHave = len - off;
        this.rxNeed = 0;
        return;
      }
      const total = i - off + value;
      if (total > limit) {
        this.onFrameError('too_large');
        return;
      }
      if (off + total <= len) {
        const frame = chunk.subarray(off, off + total);
        off += total;
        if (!this.onFrame(frame)) return;
      } else {
        this.rxParts = [chunk.subarray(off)];
        this.rxHave = len - off;
        this.rxNeed = total;
        return;
      }
    }
  }

  /** Drops any partial packet (connection closing). */
  protected resetFrames(): void {
    this.rxParts = null;
    this.rxHave = 0;
    this.rxNeed = 0;
  }
}

/**
 * Offset of a whole frame's variable header: after its first byte and its Remaining Length (§2.2.3, at
 * most four bytes; the frame came from {@link FrameReader}, so it is well formed).
 */
export function afterFixedHeader(frame: Buffer): number {
  let i = 1;
  while (i < 5 && i < frame.length && frame[i] & 0x80) i++;
  return i + 1;
}

/**
 * Offset after the length-prefixed field at `at` (a UTF-8 Encoded String or Binary Data: two bytes of length,
 * then the bytes, §1.5.3/§1.5.4 in 3.1.1, §1.5.4/§1.5.6 in 5.0), or -1 when it runs past the frame.
 */
export function fieldEnd(frame: Buffer, at: number): number {
  if (at + 2 > frame.length) return -1;
  const end = at + 2 + ((frame[at] << 8) | frame[at + 1]);
  return end > frame.length ? -1 : end;
}

/**
 * Offset after the 5.0 property block at `at` (a Variable Byte Integer length of at most four bytes, then
 * that many bytes, §2.2.2), or -1 when the length is not terminated or the block runs past the frame.
 */
export function afterProperties(frame: Buffer, at: number): number {
  let length = 0;
  let shift = 0;
  let i = at;
  while (i < frame.length && shift <= 21) {
    const b = frame[i++];
    length += (b & 0x7f) * 2 ** shift;
    if ((b & 0x80) === 0) return i + length > frame.length ? -1 : i + length;
    shift += 7;
  }
  return -1;
}
