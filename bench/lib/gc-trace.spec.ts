import { GcTrace, parseGcLine } from './gc-trace';

const SCAVENGE = '[22620:0x180a3e40]       53 ms: Scavenge 3.9 (4.0) -> 3.7 (5.0) MB, 10.41 / 0.00 ms  (average mu = 1.000, current mu = 1.000) allocation failure; ';
const FULL =
  '[22628:0xb2b3e40]      296 ms: Mark-Compact 67.3 (92.3) -> 52.8 (87.4) MB, 2.42 / 0.00 ms  (+ 7.5 ms in 7 steps since start of marking, biggest step 7.3 ms, walltime since start of marking 74 ms) (average mu = 1.000, current mu = 1.000) finalize incremental marking via stack guard; GC in old space requested';

describe('--trace-gc lines (Node 20)', () => {
  it('reads the pause of a scavenge and the biggest marking step of a full GC', () => {
    expect(parseGcLine(SCAVENGE)).toEqual({ isolate: '0x180a3e40', kind: 'Scavenge', pauseMs: 10.41, biggestStepMs: 0 });
    expect(parseGcLine(FULL)).toEqual({ isolate: '0xb2b3e40', kind: 'Mark-Compact', pauseMs: 2.42, biggestStepMs: 7.3 });
    expect(parseGcLine('signet is ready')).toBeNull();
  });

  it('takes output cut anywhere, and counts the holds over a bound by the longer of pause and step', () => {
    const trace = new GcTrace();
    const text = `${SCAVENGE}\nnoise\n${FULL.replace('0xb2b3e40', '0x180a3e40')}\n`;
    for (let i = 0; i < text.length; i += 17) trace.feed(text.slice(i, i + 17));
    expect(trace.summary(5)).toEqual({ count: 2, maxMs: 10.41, over: 2 });
    expect(trace.summary(8)).toEqual({ count: 2, maxMs: 10.41, over: 1 });
    trace.reset();
    expect(trace.summary(5)).toEqual({ count: 0, maxMs: 0, over: 0 });
  });

  it("keeps a worker's collections apart from the main thread's (the first isolate seen)", () => {
    const trace = new GcTrace();
    trace.feed(`${SCAVENGE}\n${FULL}\n`);
    expect(trace.events.map((e) => e.isolate)).toEqual(['0x180a3e40']);
    expect(trace.summary(5, trace.workerEvents)).toEqual({ count: 1, maxMs: 7.3, over: 1 });
  });
});
