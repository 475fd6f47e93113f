import { randomBytes } from 'node:crypto';
import { FrameReader, type FrameError } from './frame-reader';
import { varInt } from '../testing/helpers';

class Collector extends FrameReader {
  frames: Buffer[] = [];
  errors: FrameError[] = [];
  constructor(private readonly limit = 1 << 20) {
    super();
  }
  push(chunk: Buffer): void {
    this.readFrames(chunk);
  }
  protected frameLimit(): number {
    return this.limit;
  }
  protected onFrame(frame: Buffer): boolean {
    this.frames.push(Buffer.from(frame));
    return true;
  }
  protected onFrameError(error: FrameError): void {
    this.errors.push(error);
  }
}

const packet = (type: number, bodyLength: number): Buffer =>
  Buffer.concat([Buffer.from([type << 4]), varInt(bodyLength), randomBytes(bodyLength)]);

describe('FrameReader', () => {
  const packets = [packet(12, 0), packet(3, 5), packet(3, 200), packet(3, 20_000), packet(14, 0), packet(8, 130)];
  const stream = Buffer.concat(packets);

  it('returns whole packets from one chunk', () => {
    const r = new Collector();
    r.push(stream);
    expect(r.frames).toEqual(packets);
  });

  it('returns the same packets whatever the chunk boundaries', () => {
    const lengths = packets.map((p) => p.length);
    for (let trial = 0; trial < 100; trial++) {
      const r = new Collector();
      let off = 0;
      while (off < stream.length) {
        const size = trial < 3 ? trial + 1 : 1 + Math.floor(Math.random() * 300);
        r.push(stream.subarray(off, off + size));
        off += size;
      }
      // Compared as whole buffers: jest's deep equality on large buffers is slow.
      expect(r.frames.map((f) => f.length)).toEqual(lengths);
      expect(Buffer.concat(r.frames).equals(stream)).toBe(true);
      expect(r.errors).toEqual([]);
    }
  });

  it('refuses an oversized packet from its header alone', () => {
    const r = new Collector(1000);
    r.push(Buffer.concat([Buffer.from([0x30]), varInt(5000)]));
    expect(r.errors).toEqual(['too_large']);
    expect(r.frames).toEqual([]);
  });

  it('refuses a Remaining Length longer than 4 bytes (§1.5.5)', () => {
    const r = new Collector();
    r.push(Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x01]));
    expect(r.errors).toEqual(['malformed']);
  });

  it('never throws on random input', () => {
    for (let i = 0; i < 500; i++) {
      const r = new Collector(4096);
      expect(() => r.push(randomBytes(1 + Math.floor(Math.random() * 64)))).not.toThrow();
    }
  });
});
