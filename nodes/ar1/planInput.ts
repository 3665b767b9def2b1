/** Checks a PlanInput against the bundle contract before any copy or inference: EngineError('input') naming the field. */
import { EngineError } from '../core/planningEngine.js';
import type { CameraFrame, EngineContract, FrameEncoding, FrameIndex, PlanInput } from '../core/planningEngine.js';

/** Bytes per pixel of raw encodings; 0 for compressed. */
export const BYTES_PER_PIXEL: Record<FrameEncoding, number> = {
  rgb8: 3,
  bgr8: 3,
  rgba8: 4,
  bgra8: 4,
  mono8: 1,
  jpeg: 0,
  png: 0,
};
const MAX_SAMPLES = 16;
const HISTORY_KEYS = ['x', 'y', 'z', 'yaw'] as const;
const SIZE_KEYS = ['width', 'height', 'step'] as const;

/**
 * Frames already checked against the contract and unchanged since (an engine's frame store hands out frozen frames, and
 * a frame is in up to framesPerCamera consecutive plans): `has` skips a frame's checks but its camera's; `add` is told
 * each frame that has just passed them.
 */
export interface CheckedFrames {
  has(f: CameraFrame): boolean;
  add(f: CameraFrame): void;
}

export function validatePlanInput(input: PlanInput, c: EngineContract, checked?: CheckedFrames): void {
  const bad = (msg: string, frame?: FrameIndex): never => {
    throw new EngineError('input', `${msg} [bundle=${c.bundleId} t0=${fmt(input.t0S)} s]`, frame);
  };
  if (!Number.isFinite(input.t0S)) bad(`t0S: expected a finite time, got ${input.t0S}`);
  if (!Number.isSafeInteger(input.seed)) bad(`seed: expected an integer, got ${input.seed}`);
  const samples = input.samples ?? 1;
  if (!Number.isInteger(samples) || samples < 1 || samples > MAX_SAMPLES)
    bad(`samples: expected an integer in [1, ${MAX_SAMPLES}], got ${samples}`);
  if (!Array.isArray(input.frames) || input.frames.length !== c.cameras.length) {
    bad(
      `frames: expected ${c.cameras.length} cameras (${c.cameras.join(', ')}), got ${Array.isArray(input.frames) ? input.frames.length : typeof input.frames}`,
    );
  }
  for (let ci = 0; ci < input.frames.length; ci++) {
    const list = input.frames[ci];
    const cam = c.cameras[ci]!;
    if (!Array.isArray(list) || list.length !== c.framesPerCamera)
      bad(`${cam}: expected ${c.framesPerCamera} frames, got ${Array.isArray(list) ? list.length : typeof list}`);
    for (let k = 0; k < list!.length; k++) {
      const f = list![k]!;
      if (checked?.has(f) && f.camera === cam) continue;
      checkFrame(f, cam, k, c, (m) => bad(m, { camera: ci, index: k }));
      checked?.add(f);
    }
  }
  const h = input.history;
  const n = c.historySteps;
  for (const key of HISTORY_KEYS) {
    const a = h?.[key];
    if (!a || a.length !== n) bad(`history.${key}: expected ${n} poses, got ${a ? a.length : 'none'}`);
    for (let i = 0; i < n; i++)
      if (!Number.isFinite(a![i]!)) bad(`history.${key}[${i}]: expected a finite number, got ${a![i]}`);
  }
  if (!(Math.abs(h.dt - c.historyDtS) < 1e-6)) bad(`history.dt: expected ${c.historyDtS} s, got ${h.dt}`);
}

function checkFrame(f: CameraFrame, cam: string, k: number, c: EngineContract, bad: (m: string) => never): void {
  const where = `${cam}[${k}]`;
  if (typeof f !== 'object' || f === null) bad(`${where}: expected a frame, got ${f === null ? 'null' : typeof f}`);
  if (f.camera !== cam) bad(`${where}: expected a frame of ${cam}, got one of ${f.camera}`);
  if (!Number.isFinite(f.stampS)) bad(`${where}: stampS: expected a finite time, got ${f.stampS}`);
  if (typeof f.encoding !== 'string' || !Object.hasOwn(BYTES_PER_PIXEL, f.encoding))
    bad(
      `${where}: encoding: expected one of ${Object.keys(BYTES_PER_PIXEL).join(', ')}, got ${JSON.stringify(f.encoding)}`,
    );
  if (!(f.data instanceof Uint8Array) || f.data.length === 0)
    bad(`${where}: data: expected non-empty bytes, got ${f.data instanceof Uint8Array ? 0 : typeof f.data} bytes`);
  for (const key of SIZE_KEYS)
    if (!(Number.isSafeInteger(f[key]) && f[key] >= 0))
      bad(`${where}: ${key}: expected a whole number ≥ 0, got ${String(f[key])}`);
  const bpp = BYTES_PER_PIXEL[f.encoding];
  if (bpp === 0) {
    if ((f.width !== 0 || f.height !== 0) && (f.width !== c.imageWidth || f.height !== c.imageHeight)) {
      bad(`${where}: expected ${c.imageWidth}x${c.imageHeight} (WxH) ${f.encoding}, got ${f.width}x${f.height}`);
    }
    return;
  }
  if (f.width !== c.imageWidth || f.height !== c.imageHeight)
    bad(`${where}: expected ${c.imageWidth}x${c.imageHeight} (WxH), got ${f.width}x${f.height}`);
  if (f.step < f.width * bpp) bad(`${where}: step: expected ≥ ${f.width * bpp} bytes for ${f.encoding}, got ${f.step}`);
  if (f.data.length < f.step * f.height)
    bad(`${where}: data: expected ${f.step * f.height} bytes (${f.height} rows × ${f.step}), got ${f.data.length}`);
}

const fmt = (s: number): string => (Number.isFinite(s) ? s.toFixed(3) : String(s));
