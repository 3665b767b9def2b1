/** Benchmark inputs: demo bundles (cached on disk), synthetic 1080×1920 frames (raw rgb8 and JPEG), odometry. */
import { rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import type { CompressedImage, Image, Odometry } from '../nodes/core/msgs.js';
import { secondsToStamp } from '../nodes/core/time.js';
import { makeDemoBundle } from '../nodes/syntheticBundles/demoBundle.js';

export interface BundleSpec {
  name: 'demo' | 'large';
  height: number;
  width: number;
}

/** Bundle directories written by this process: each is written once per run. */
const written = new Set<string>();

/**
 * Writes a demo bundle under the OS temp dir, once per spec and process, and returns its directory. It is rewritten
 * in every new process (0.1 s): a directory left by an older version of the generator would otherwise be measured
 * in place of the current graphs (one without max_batch runs vision and prefill plan by plan).
 */
export function benchBundle(spec: BundleSpec, root = path.join(os.tmpdir(), 'ar1-bench')): string {
  const dir = path.join(root, `${spec.name}-${spec.height}x${spec.width}`);
  if (!written.has(dir)) {
    rmSync(dir, { recursive: true, force: true });
    makeDemoBundle(dir, { imageHeight: spec.height, imageWidth: spec.width, large: spec.name === 'large' });
    written.add(dir);
  }
  return dir;
}

/** Distinct raw rgb8 frames (a moving gradient, so no two are equal). */
export function rawFrames(count: number, height: number, width: number): Uint8Array[] {
  return Array.from({ length: count }, (_, k) => {
    const data = new Uint8Array(height * width * 3);
    for (let y = 0; y < height; y++) {
      const row = y * width * 3;
      for (let x = 0; x < width; x++) {
        const i = row + x * 3;
        data[i] = (x + 7 * k) & 255;
        data[i + 1] = (y + 13 * k) & 255;
        data[i + 2] = (x ^ y) & 255;
      }
    }
    return data;
  });
}

/** The same frames as JPEG (quality 85). */
export async function jpegFrames(raw: readonly Uint8Array[], height: number, width: number): Promise<Uint8Array[]> {
  return Promise.all(
    raw.map(
      async (d) =>
        new Uint8Array(
          await sharp(d, { raw: { width, height, channels: 3 } })
            .jpeg({ quality: 85 })
            .toBuffer(),
        ),
    ),
  );
}

export function imageMsg(stampS: number, data: Uint8Array, height: number, width: number): Image {
  return {
    header: { stamp: secondsToStamp(stampS), frame_id: 'cam' },
    height,
    width,
    encoding: 'rgb8',
    is_bigendian: 0,
    step: width * 3,
    data,
  };
}

export function compressedMsg(stampS: number, data: Uint8Array): CompressedImage {
  return { header: { stamp: secondsToStamp(stampS), frame_id: 'cam' }, format: 'jpeg', data };
}

/** Straight drive along x at `speed` m/s. */
export function odometryMsg(stampS: number, speed = 10): Odometry {
  return {
    header: { stamp: secondsToStamp(stampS), frame_id: 'map' },
    child_frame_id: 'base_link',
    pose: {
      pose: { position: { x: speed * stampS, y: 0, z: 0 }, orientation: { x: 0, y: 0, z: 0, w: 1 } },
      covariance: [],
    },
    twist: { twist: { linear: { x: speed, y: 0, z: 0 }, angular: { x: 0, y: 0, z: 0 } }, covariance: [] },
  };
}
