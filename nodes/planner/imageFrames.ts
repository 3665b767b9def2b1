import { imageSize } from 'image-size';
import { errorMessage } from '../core/errors.js';
import type { CameraFrame, FrameEncoding } from '../core/planningEngine.js';
import type { CompressedImage, Image } from '../core/msgs.js';
import type { MessageProblem } from './frameAccounting.js';
import { headerSeconds } from './stamps.js';

/** Bytes per pixel of the raw encodings AR1 accepts. */
const RAW_ENCODINGS: Readonly<Record<string, number>> = Object.freeze({
  rgb8: 3,
  bgr8: 3,
  rgba8: 4,
  bgra8: 4,
  mono8: 1,
});

/**
 * The most bytes a compressed frame of the contract's size may hold: twice its RGBA size, plus 1 MiB for metadata
 * (EXIF, ICC profiles). A JPEG or PNG of real camera content is far smaller (a 1080p JPEG: 0.2-0.5 MB, against 17.6 MB
 * allowed); a larger one is padding or garbage after the image, and would make its frame-ring slot, which is kept
 * for reuse, that large for the rest of the run.
 */
export function maxCompressedBytes(size: ExpectedSize): number {
  return size.width * size.height * 4 * 2 + 1024 * 1024;
}

export type FrameCheck = { ok: true; frame: CameraFrame } | { ok: false; reason: MessageProblem; detail: string };

export interface ExpectedSize {
  width: number;
  height: number;
}

/** sensor_msgs/Image → CameraFrame (bytes by reference), or why it is refused. */
export function rawFrame(camera: string, msg: Image, size: ExpectedSize): FrameCheck {
  const stampS = headerSeconds(msg);
  if (stampS === undefined || !(msg.data instanceof Uint8Array)) {
    return {
      ok: false,
      reason: 'bad_message',
      detail: `${camera}: expected a nonzero header stamp (nanosec < 1e9) and uint8 data, got a malformed sensor_msgs/Image`,
    };
  }
  // Own keys only: "constructor", "__proto__" or "toString" are not encodings.
  const bpp =
    typeof msg.encoding === 'string' && Object.hasOwn(RAW_ENCODINGS, msg.encoding)
      ? RAW_ENCODINGS[msg.encoding]
      : undefined;
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

/**
 * sensor_msgs/CompressedImage → CameraFrame, or why it is refused. The image size is read from the header (JPEG SOF,
 * PNG IHDR, by image-size) without decoding: a frame whose header cannot be read, whose format is not the declared
 * one, or whose size is not the contract's is dropped here, so it never reaches a plan. Bytes after the header
 * (a truncated scan) are only found by the engine's decoder: the planner then drops that frame (bad_image).
 */
export function compressedFrame(camera: string, msg: CompressedImage, size: ExpectedSize): FrameCheck {
  const stampS = headerSeconds(msg);
  if (stampS === undefined || !(msg.data instanceof Uint8Array) || typeof msg.format !== 'string') {
    return {
      ok: false,
      reason: 'bad_message',
      detail: `${camera}: expected a nonzero header stamp (nanosec < 1e9), format and uint8 data, got a malformed sensor_msgs/CompressedImage`,
    };
  }
  const encoding = compressedFormat(msg.format);
  if (!encoding)
    return { ok: false, reason: 'bad_encoding', detail: `${camera}: expected format jpeg or png, got "${msg.format}"` };
  if (msg.data.length === 0)
    return { ok: false, reason: 'bad_size', detail: `${camera}: expected ${encoding} bytes, got 0 bytes` };
  const max = maxCompressedBytes(size);
  if (msg.data.length > max)
    return {
      ok: false,
      reason: 'bad_size',
      detail: `${camera}: expected at most ${max} bytes for a ${size.width}x${size.height} ${encoding}, got ${msg.data.length} bytes`,
    };
  let header: { width?: number; height?: number; type?: string };
  try {
    header = imageSize(msg.data);
  } catch (e) {
    return {
      ok: false,
      reason: 'bad_encoding',
      detail: `${camera}: expected a readable ${encoding} header, got ${msg.data.length} bytes that are not one (${errorMessage(e)})`,
    };
  }
  const found = header.type === 'jpg' ? 'jpeg' : header.type;
  if (found !== encoding)
    return {
      ok: false,
      reason: 'bad_encoding',
      detail: `${camera}: expected ${encoding} data (format "${msg.format}"), got ${found ?? 'an unknown'} image`,
    };
  if (header.width !== size.width || header.height !== size.height)
    return {
      ok: false,
      reason: 'bad_size',
      detail: `${camera}: expected ${size.width}x${size.height}, got a ${encoding} of ${header.width}x${header.height}`,
    };
  return { ok: true, frame: { camera, stampS, encoding, width: 0, height: 0, step: 0, data: msg.data } };
}
