import { expect } from 'chai';
import { decoderMessage, FramePreprocessor } from '../../../nodes/adapters/onnxruntime/preprocess.js';
import type { FrameRef } from '../../../nodes/adapters/onnxruntime/protocol.js';

const W = 64;
const H = 36;
function frame(seed: number): Uint8Array {
  const d = new Uint8Array(W * H * 3);
  for (let i = 0; i < d.length; i++) d[i] = (i * 7 + seed * 31) & 255;
  return d;
}
const ref = (key: string, data: Uint8Array): FrameRef => ({
  slot: 0,
  offset: 0,
  length: data.length,
  encoding: 'rgb8',
  width: W,
  height: H,
  step: W * 3,
  key,
});

describe('adapters/onnxruntime/preprocess: each frame is decoded and resized once, reused by the next plans', () => {
  it('reuses a frame seen before (the same key), byte for byte', async () => {
    const pre = new FramePreprocessor({ width: W, height: H }, { width: 16, height: 9 }, true);
    const a = frame(1);
    const first = new Uint8Array(16 * 9 * 3);
    const again = new Uint8Array(16 * 9 * 3);
    await pre.frame(0, a, ref('cam@1.0', a), first, 'cam[0]');
    await pre.frame(3, a, ref('cam@1.0', a), again, 'cam[3]');
    expect(pre.misses).to.equal(1);
    expect(pre.hits).to.equal(1);
    expect(again).to.deep.equal(first);
  });

  it('keeps 64 frames by default; reserve(n) keeps n (the frames of batched plans from several bags)', async () => {
    const out = new Uint8Array(16 * 9 * 3);
    const fill = async (pre: FramePreprocessor) => {
      for (let k = 0; k < 100; k++) await pre.frame(0, frame(k), ref(`cam@${k}`, frame(k)), out, 'x');
      await pre.frame(0, frame(0), ref('cam@0', frame(0)), out, 'x');
    };
    const small = new FramePreprocessor({ width: W, height: H }, { width: 16, height: 9 }, true);
    await fill(small);
    expect(small.hits).to.equal(0);
    const large = new FramePreprocessor({ width: W, height: H }, { width: 16, height: 9 }, true);
    large.reserve(128);
    large.reserve(10); // never below what was reserved
    await fill(large);
    expect(large.hits).to.equal(1);
  });

  it('does not reuse under another key: other source bytes under the same stamp (a sim reset), another stamp', async () => {
    const pre = new FramePreprocessor({ width: W, height: H }, { width: 16, height: 9 }, true);
    const out = new Uint8Array(16 * 9 * 3);
    await pre.frame(0, frame(1), ref('cam@1.0#1', frame(1)), out, 'x');
    const other = new Uint8Array(16 * 9 * 3);
    await pre.frame(0, frame(2), ref('cam@1.0#2', frame(2)), other, 'x');
    await pre.frame(0, frame(1), ref('cam@1.1#1', frame(1)), new Uint8Array(16 * 9 * 3), 'x');
    expect(pre.misses).to.equal(3);
    expect(pre.hits).to.equal(0);
    expect(other).not.to.deep.equal(out);
  });

  it("reuses an evicted frame's buffer for the next one, and what it holds then is the new frame", async () => {
    const size = 16 * 9 * 3;
    const pre = new FramePreprocessor({ width: W, height: H }, { width: 16, height: 9 }, true);
    for (let k = 0; k < 100; k++) await pre.frame(0, frame(k), ref(`cam@${k}`, frame(k)), new Uint8Array(size), 'x');
    expect(pre.buffers).to.equal(64);
    // The 64 most recent frames are cached, 28 of them in recycled buffers: each reads back as a fresh preprocess.
    for (let k = 36; k < 100; k++) {
      const cached = new Uint8Array(size);
      await pre.frame(0, frame(k), ref(`cam@${k}`, frame(k)), cached, 'x');
      const fresh = new Uint8Array(size);
      await new FramePreprocessor({ width: W, height: H }, { width: 16, height: 9 }, true).frame(
        0,
        frame(k),
        ref(`cam@${k}`, frame(k)),
        fresh,
        'x',
      );
      expect(cached, `frame ${k}`).to.deep.equal(fresh);
    }
    expect(pre.hits).to.equal(64);
    expect(pre.buffers).to.equal(64);
  });
});

describe('adapters/onnxruntime/preprocess: decoder errors name the frame alone', () => {
  it("keeps sharp's corrupt-header text without libvips's process-wide log, which may hold other frames' faults or nothing", () => {
    for (const log of [
      'VipsJpeg: premature end of JPEG image',
      '',
      'VipsPng: libpng read error\nVipsJpeg: other frame',
    ])
      expect(decoderMessage(new Error(`Input buffer has corrupt header: ${log}`))).to.equal(
        'Input buffer has corrupt header',
      );
    expect(decoderMessage(new Error('Input file has corrupt header: x'))).to.equal('Input file has corrupt header');
  });

  it('keeps the first line of any other message', () => {
    expect(decoderMessage(new Error('VipsJpeg: Premature end of input file\nVipsJpeg: out of order read'))).to.equal(
      'VipsJpeg: Premature end of input file',
    );
    expect(decoderMessage('not an Error')).to.equal('not an Error');
  });
});
