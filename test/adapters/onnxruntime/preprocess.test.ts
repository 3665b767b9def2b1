import { expect } from 'chai';
import sharp from 'sharp';
import { FramePreprocessor } from '../../../nodes/adapters/onnxruntime/preprocess.js';
import { decodeFailure } from '../../../nodes/core/decodeFailure.js';
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
  it('a frame that fails to decode gets the same text alone and among other bad frames decoded at once', async () => {
    const pre = new FramePreprocessor({ width: W, height: H }, { width: W, height: H }, false);
    const good = await sharp(frame(1), { raw: { width: W, height: H, channels: 3 } })
      .jpeg()
      .toBuffer();
    const truncated = new Uint8Array(good.subarray(0, Math.floor(good.length * 0.6)));
    const notAnImage = Uint8Array.of(0xff, 0xd8, 1, 2, 3);
    const png = await sharp(frame(2), { raw: { width: W, height: H, channels: 3 } })
      .png()
      .toBuffer();
    const badPng = new Uint8Array(png.subarray(0, Math.floor(png.length * 0.7)));
    const jpegRef = (key: string, data: Uint8Array): FrameRef => ({ ...ref(key, data), encoding: 'jpeg', step: 0 });
    const pngRef = (key: string, data: Uint8Array): FrameRef => ({ ...ref(key, data), encoding: 'png', step: 0 });
    const fail = (data: Uint8Array, r: FrameRef, index = 0) =>
      pre.frame(index, data, r, new Uint8Array(W * H * 3), 'cam').then(
        () => 'decoded',
        (e: Error) => e.message,
      );
    const alone = [await fail(truncated, jpegRef('t', truncated)), await fail(notAnImage, jpegRef('n', notAnImage))];
    for (let round = 0; round < 5; round++) {
      const together = await Promise.all([
        fail(truncated, jpegRef(`t${round}`, truncated), 0),
        fail(notAnImage, jpegRef(`n${round}`, notAnImage), 1),
        fail(badPng, pngRef(`p${round}`, badPng), 2),
        fail(truncated, jpegRef(`u${round}`, truncated), 3),
      ]);
      expect(together).to.deep.equal([
        alone[0],
        alone[1],
        `cam: cannot decode png: ${decodeFailure('pixels')}`,
        alone[0],
      ]);
    }
    // The header of the truncated JPEG is whole: its scan data fails. The five bytes are no header at all.
    expect(alone).to.deep.equal([
      `cam: cannot decode jpeg: ${decodeFailure('pixels')}`,
      `cam: cannot decode jpeg: ${decodeFailure('header')}`,
    ]);
  });
});
