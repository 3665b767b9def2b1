import { expect } from 'chai';
import sharp from 'sharp';
import type { CompressedImage, Image } from '../../nodes/core/msgs.js';
import { compressedFrame, maxCompressedBytes, rawFrame } from '../../nodes/planner/imageFrames.js';

const SIZE = { width: 16, height: 8 };
const header = { stamp: { sec: 5, nanosec: 250_000_000 }, frame_id: 'cam' };

const raw = (over: Partial<Image> = {}): Image => ({
  header,
  width: 16,
  height: 8,
  encoding: 'rgb8',
  is_bigendian: 0,
  step: 48,
  data: new Uint8Array(48 * 8),
  ...over,
});

const encode = async (format: 'jpeg' | 'png', width = SIZE.width, height = SIZE.height): Promise<Uint8Array> =>
  new Uint8Array(
    await sharp({ create: { width, height, channels: 3, background: { r: 90, g: 120, b: 30 } } })
      .toFormat(format)
      .toBuffer(),
  );

/** data followed by zeros up to length bytes. */
const padded = (data: Uint8Array, length: number): Uint8Array => {
  const out = new Uint8Array(length);
  out.set(data);
  return out;
};

describe('planner/imageFrames', () => {
  let jpeg: Uint8Array, png: Uint8Array, bigJpeg: Uint8Array, bigPng: Uint8Array;
  before(async () => {
    [jpeg, png, bigJpeg, bigPng] = await Promise.all([
      encode('jpeg'),
      encode('png'),
      encode('jpeg', 32, 8),
      encode('png', 16, 9),
    ]);
  });
  const compressed = (data: Uint8Array, format: string): CompressedImage => ({ header, format, data });

  it('takes a raw frame of a known encoding and the contract size', () => {
    const r = rawFrame('cam', raw(), SIZE);
    expect(r.ok && r.frame.stampS).to.equal(5.25);
  });

  it('refuses raw encodings that are Object.prototype names, not encodings (bad_encoding)', () => {
    for (const encoding of ['constructor', '__proto__', 'toString', 'valueOf', 'hasOwnProperty', 'isPrototypeOf']) {
      const r = rawFrame('cam', raw({ encoding }), SIZE);
      expect(r.ok, encoding).to.equal(false);
      if (!r.ok) {
        expect(r.reason, encoding).to.equal('bad_encoding');
        expect(r.detail).to.match(/^cam: expected encoding rgb8\|/);
      }
    }
  });

  it('refuses a malformed stamp as bad_message: nanosec >= 1e9, fractional, or zero (an unsynchronised driver)', () => {
    for (const stamp of [
      { sec: 5, nanosec: 4294967295 },
      { sec: 5, nanosec: 1e9 },
      { sec: 5, nanosec: 0.5 },
      { sec: 0, nanosec: 0 },
    ]) {
      const h = { stamp, frame_id: 'cam' };
      for (const r of [
        rawFrame('cam', raw({ header: h }), SIZE),
        compressedFrame('cam', { ...compressed(jpeg, 'jpeg'), header: h }, SIZE),
      ]) {
        expect(r.ok, JSON.stringify(stamp)).to.equal(false);
        if (!r.ok) expect(r.reason).to.equal('bad_message');
      }
    }
  });

  it('takes a JPEG or PNG whose header says the contract size and the declared format', () => {
    for (const [data, format] of [
      [jpeg, 'jpeg'],
      [png, 'png'],
      [jpeg, 'bgr8; jpeg compressed bgr8'],
      [png, 'rgb8; png compressed rgb8'],
    ] as const) {
      const r = compressedFrame('cam', compressed(data, format), SIZE);
      expect(r.ok, format).to.equal(true);
      if (r.ok)
        expect(r.frame).to.include({ camera: 'cam', stampS: 5.25, encoding: format.includes('png') ? 'png' : 'jpeg' });
    }
  });

  it('takes a compressed frame padded up to the size limit, and names the limit', () => {
    expect(maxCompressedBytes(SIZE)).to.equal(16 * 8 * 8 + 1024 * 1024);
    expect(maxCompressedBytes({ width: 1920, height: 1080 })).to.equal(17_637_376);
    expect(compressedFrame('cam', compressed(padded(jpeg, maxCompressedBytes(SIZE)), 'jpeg'), SIZE).ok).to.equal(true);
  });

  it('refuses at receipt a compressed frame whose header cannot be read, names another format or another size', () => {
    const cases: [string, Uint8Array, string, string, RegExp][] = [
      [
        'jpeg truncated before its SOF',
        jpeg.subarray(0, 40),
        'jpeg',
        'bad_encoding',
        /^cam: expected a readable jpeg header, got 40 bytes/,
      ],
      [
        'png truncated inside its signature',
        png.subarray(0, 6),
        'png',
        'bad_encoding',
        /^cam: expected a readable png header/,
      ],
      ['garbage bytes', new Uint8Array(500).fill(7), 'jpeg', 'bad_encoding', /^cam: expected a readable jpeg header/],
      [
        'png data declared jpeg',
        png,
        'jpeg',
        'bad_encoding',
        /^cam: expected jpeg data \(format "jpeg"\), got png image/,
      ],
      [
        'jpeg data declared png',
        jpeg,
        'png',
        'bad_encoding',
        /^cam: expected png data \(format "png"\), got jpeg image/,
      ],
      ['jpeg of 32x8', bigJpeg, 'jpeg', 'bad_size', /^cam: expected 16x8, got a jpeg of 32x8$/],
      ['png of 16x9', bigPng, 'png', 'bad_size', /^cam: expected 16x8, got a png of 16x9$/],
      ['empty', new Uint8Array(0), 'jpeg', 'bad_size', /^cam: expected jpeg bytes, got 0 bytes$/],
      [
        // A readable header of the contract size, then padding: 16x8 allows 16*8*4*2 + 1 MiB bytes.
        'jpeg padded past the size limit',
        padded(jpeg, 16 * 8 * 8 + 1024 * 1024 + 1),
        'jpeg',
        'bad_size',
        /^cam: expected at most 1049600 bytes for a 16x8 jpeg, got 1049601 bytes$/,
      ],
    ];
    for (const [what, data, format, reason, detail] of cases) {
      const r = compressedFrame('cam', compressed(data, format), SIZE);
      expect(r.ok, what).to.equal(false);
      if (!r.ok) {
        expect(r.reason, what).to.equal(reason);
        expect(r.detail, what).to.match(detail);
      }
    }
  });
});
