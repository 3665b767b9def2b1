import type { CameraFrame, FrameEncoding } from '../core/planningEngine.js';
import type { CompressedImage, Image } from '../core/msgs.js';
import { stampToSeconds } from '../core/time.js';
import type { MessageProblem } from './frameAccounting.js';

/** Bytes per pixel of the raw encodings AR1 accepts. */
const RAW_ENCODINGS: Readonly<Record<string, number>> = Object.freeze({
  rgb8: 3,
  bgr8: 3,
  rgba8: 4,
  bgra8: 4,
  mono8: 1,
});

export type FrameCheck = { ok: true; frame: CameraFrame } | { ok: false; reason: MessageProblem; detail: string };

export interface ExpectedSize {
  width: number;
  height: number;
}

/** The header stamp in seconds, or undefined when it is missing, not numeric or not finite. */
function headerSeconds(msg: { header?: { stamp?: { sec?: unknown; nanosec?: unknown } } }): number | undefined {
  const s = msg.header?.stamp;
  if (!s || typeof s.sec !== 'number' || typeof s.nanosec !== 'number') return undefined;
  const t = stampToSeconds({ sec: s.sec, nanosec: s.nanosec });
  return Number.isFinite(t) ? t : undefined;
}

/** sensor_msgs/Image → CameraFrame (bytes by reference), or why it is refused. */
export function rawFrame(camera: string, msg: Image, size: ExpectedSize): FrameCheck {
  const stampS = headerSeconds(msg);
  if (stampS === undefined || !(msg.data instanceof Uint8Array)) {
    return {
      ok: false,
      reason: 'bad_message',
      detail: `${camera}: expected a header stamp and uint8 data, got a malformed sensor_msgs/Image`,
    };
  }
  const bpp = RAW_ENCODINGS[msg.encoding];
  if (bpp === undefined) {
    return {
      ok: false,
      reason: 'bad_encoding',
      detail: `${camera}: expected encoding ${Object.keys(RAW_ENCODINGS).join('|')}, got "${msg.encoding}"`,
    };
  }
  if (msg.width !== size.width || msg.height !== size.height) {
    return {
      ok: false,
      reason: 'bad_size',
      detail: `${camera}: expected ${size.width}x${size.height}, got ${msg.width}x${msg.height}`,
    };
  }
  if (msg.step < msg.width * bpp || msg.data.length < msg.step * msg.height) {
    return {
      ok: false,
      reason: 'bad_size',
      detail: `${camera}: expected step >= ${msg.width * bpp} and ${msg.step * msg.height} bytes, got step ${msg.step} and ${msg.data.length} bytes`,
    };
  }
  return {
    ok: true,
    frame: {
      camera,
      stampS,
      encoding: msg.encoding as FrameEncoding,
      width: msg.width,
      height: msg.height,
      step: msg.step,
      data: msg.data,
    },
  };
}

/** The compressed format in a CompressedImage.format ("jpeg", "png", or image_transport's "bgr8; jpeg compressed bgr8"). */
function compressedFormat(format: string): 'jpeg' | 'png' | undefined {
  const f = format.toLowerCase();
  if (/\b(jpeg|jpg)\b/.test(f)) return 'jpeg';
  if (/\bpng\b/.test(f)) return 'png';
  return undefined;
}

/** sensor_msgs/CompressedImage → CameraFrame (size checked by the engine's decoder), or why it is refused. */
export function compressedFrame(camera: string, msg: CompressedImage): FrameCheck {
  const stampS = headerSeconds(msg);
  if (stampS === undefined || !(msg.data instanceof Uint8Array) || typeof msg.format !== 'string') {
    return {
      ok: false,
      reason: 'bad_message',
      detail: `${camera}: expected a header stamp, format and uint8 data, got a malformed sensor_msgs/CompressedImage`,
    };
  }
  const encoding = compressedFormat(msg.format);
  if (!encoding)
    return { ok: false, reason: 'bad_encoding', detail: `${camera}: expected format jpeg or png, got "${msg.format}"` };
  if (msg.data.length === 0)
    return { ok: false, reason: 'bad_size', detail: `${camera}: expected ${encoding} bytes, got 0 bytes` };
  return { ok: true, frame: { camera, stampS, encoding, width: 0, height: 0, step: 0, data: msg.data } };
}
