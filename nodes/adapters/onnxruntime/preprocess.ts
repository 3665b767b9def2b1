/**
 * Worker-side frame preprocessing with sharp: decode (jpeg/png) or wrap raw pixels, check the size, resize
 * (bicubic) to the model size when the bundle preprocesses on the host, and write RGB uint8 into the batched
 * NHWC pixel tensor. Raw frames with row padding or BGR order are repacked into reusable scratch buffers.
 */
import sharp from 'sharp';
import type { Metadata, OutputInfo, Sharp } from 'sharp';
import { decodeFailure } from '../../core/decodeFailure.js';
import { errorFirstLine } from '../../core/errors.js';
import { EngineError } from '../../core/planningEngine.js';
import { BYTES_PER_PIXEL } from '../../ar1/planInput.js';
import type { FrameRef } from './protocol.js';

export interface PreprocessTarget {
  width: number;
  height: number;
}

/** Preprocessed frames kept for reuse, at most this many and only frames of at most CACHE_MAX_FRAME_BYTES. */
const CACHE_FRAMES = 64;
const CACHE_MAX_FRAME_BYTES = 2 * 1024 * 1024;

export class FramePreprocessor {
  readonly #scratch: Uint8Array[] = [];
  /**
   * Each camera frame takes part in framesPerCamera consecutive plans (t0, t0−0.1, …): it is decoded and resized once
   * and reused, under its FrameRef key: ring frames by slot and write generation (a slot written again is a new key),
   * copied frames by camera@stamp and the identity of the caller's bytes (new bytes for a reused stamp, as after a sim
   * reset, are a new key).
   */
  readonly #cache = new Map<string, Uint8Array>();
  hits = 0;
  misses = 0;
  /** Cache buffers allocated: at most the capacity, as an evicted frame's buffer takes the next one. */
  buffers = 0;
  #capacity = CACHE_FRAMES;

  constructor(
    readonly native: PreprocessTarget,
    readonly model: PreprocessTarget,
    readonly resize: boolean,
  ) {}

  /**
   * Keeps at least `frames` preprocessed frames (never fewer than the default): a batch of B plans from B bags
   * reuses the frames of the B plans before it, which 64 frames do not hold once B·16 exceeds them.
   */
  reserve(frames: number): void {
    this.#capacity = Math.max(this.#capacity, frames);
  }

  /** Writes frame `index` into `out` (h·w·3 bytes at model size, or native size when not resizing). */
  async frame(index: number, data: Uint8Array, ref: FrameRef, out: Uint8Array, where: string): Promise<void> {
    const key = `${ref.key}|${ref.encoding}`;
    const cached = this.#cache.get(key);
    if (cached && cached.length === out.length) {
      this.#cache.delete(key); // most recently used last
      this.#cache.set(key, cached);
      out.set(cached);
      this.hits++;
      return;
    }
    await this.#process(index, data, ref, out, where);
    this.misses++;
    if (out.length <= CACHE_MAX_FRAME_BYTES) {
      // The least recently used frame's buffer is reused once the cache is full: a new buffer per miss (44 MB/s
      // with the large bundle) is external memory that drives the worker's major GCs (docs/performance.md).
      let copy: Uint8Array | undefined;
      if (this.#cache.size >= this.#capacity) {
        const [oldest, buf] = this.#cache.entries().next().value!;
        this.#cache.delete(oldest);
        if (buf.length === out.length) copy = buf;
      }
      if (!copy) {
        copy = new Uint8Array(out.length);
        this.buffers++;
      }
      copy.set(out);
      this.#cache.set(key, copy);
    }
  }

  async #process(index: number, data: Uint8Array, ref: FrameRef, out: Uint8Array, where: string): Promise<void> {
    const bad = (m: string): never => {
      throw new EngineError('input', `${where}: ${m}`);
    };
    let img: Sharp;
    const bpp = BYTES_PER_PIXEL[ref.encoding];
    if (bpp === 0) {
      let meta: Metadata;
      try {
        meta = await sharp(data).metadata();
      } catch {
        return bad(`cannot decode ${ref.encoding}: ${decodeFailure('header')}`);
      }
      if (meta.format !== ref.encoding) bad(`expected ${ref.encoding} data, got ${meta.format ?? 'unknown format'}`);
      if (meta.width !== this.native.width || meta.height !== this.native.height) {
        bad(
          `expected ${this.native.width}x${this.native.height} (WxH) ${ref.encoding}, decoded ${meta.width}x${meta.height}`,
        );
      }
      img = sharp(data);
    } else {
      const { width, height } = ref;
      const tight = width * bpp;
      let pixels = data;
      const swap = ref.encoding === 'bgr8' || ref.encoding === 'bgra8';
      if (ref.step !== tight || swap) {
        const need = tight * height;
        let s = this.#scratch[index];
        if (!s || s.length < need) {
          s = new Uint8Array(need);
          this.#scratch[index] = s;
        }
        for (let r = 0; r < height; r++) s.set(data.subarray(r * ref.step, r * ref.step + tight), r * tight);
        if (swap)
          for (let i = 0; i < need; i += bpp) {
            const b = s[i]!;
            s[i] = s[i + 2]!;
            s[i + 2] = b;
          }
        pixels = s.subarray(0, need);
      }
      img = sharp(pixels, { raw: { width, height, channels: bpp as 1 | 3 | 4 } });
    }
    const size = this.resize ? this.model : this.native;
    if (this.resize && (size.width !== this.native.width || size.height !== this.native.height)) {
      img = img.resize({ width: size.width, height: size.height, fit: 'fill', kernel: 'cubic' });
    }
    let res: { data: Buffer; info: OutputInfo };
    try {
      res = await img.removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
    } catch (e) {
      // A compressed frame's bytes: a fixed text (libvips's log may name another frame). Raw pixels cannot be corrupt:
      // a failure there is the preprocessing's own (resize, memory), kept as the first line of what sharp said.
      if (bpp === 0) return bad(`cannot decode ${ref.encoding}: ${decodeFailure('pixels')}`);
      return bad(`preprocessing ${ref.encoding} failed: ${errorFirstLine(e)}`);
    }
    const { info } = res;
    if (info.width !== size.width || info.height !== size.height || info.channels !== 3) {
      bad(
        `preprocessing produced ${info.width}x${info.height}x${info.channels}, expected ${size.width}x${size.height}x3`,
      );
    }
    out.set(res.data);
  }
}
