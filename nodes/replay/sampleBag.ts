/**
 * The demo's sample bag: a synthetic but plausible ~20 s drive (straight, a left curve, braking to a stop,
 * pulling away) as a rosbag2 MCAP: nav_msgs/Odometry at 50 Hz and four AR1 cameras at 10 Hz as small JPEG
 * CompressedImages rendered from the car's pose, with realistic stamp jitter. Deterministic for a seed.
 */
import sharp from 'sharp';
import { createBagWriter } from '../adapters/mcap/index.js';
import type { WrittenBag } from '../adapters/mcap/index.js';
import { QOS_SENSOR } from '../core/qos.js';
import type { CompressedImage, Odometry } from '../core/msgs.js';
import { nanosToStamp } from '../core/time.js';
import { Drive, seededRandom } from './sample/drive.js';
import type { DriveState } from './sample/drive.js';
import { renderCamera } from './sample/scene.js';
import type { CameraSpec, Scene } from './sample/scene.js';

const DEG = Math.PI / 180;

/** AR1 cameras in model order, with their mounting yaw and field of view. */
export const SAMPLE_CAMERAS: readonly CameraSpec[] = Object.freeze([
  { name: 'camera_cross_left_120fov', yaw: 60 * DEG, hfov: 120 * DEG },
  { name: 'camera_front_wide_120fov', yaw: 0, hfov: 120 * DEG },
  { name: 'camera_cross_right_120fov', yaw: -60 * DEG, hfov: 120 * DEG },
  { name: 'camera_front_tele_30fov', yaw: 0, hfov: 30 * DEG },
]);

export const SAMPLE_ODOMETRY_TOPIC = '/localization/odometry';
export const sampleCameraTopic = (name: string): string => `/sensors/camera/${name}/image_raw/compressed`;

export interface SampleBagOptions {
  /** Seed of stamp jitter and scenery (default 1). */
  seed?: number;
  /** [s] drive length (default 20). */
  durationS?: number;
  /** [px] image size; the demo bundle expects 180 × 320 (H × W) (defaults). */
  width?: number;
  height?: number;
  /** JPEG quality 1..100 (default 75). */
  jpegQuality?: number;
  /** [Hz] (defaults 50 and 10). */
  odometryRateHz?: number;
  cameraRateHz?: number;
  /** [ns] log time of the drive's start (default 1 700 000 000 s). */
  startTimeNs?: bigint;
  compression?: 'none' | 'zstd';
}

export interface SampleBag extends WrittenBag {
  odometryTopic: string;
  cameraTopics: string[];
}

/** Writes the sample bag into `dir` (a rosbag2 directory: `<dir>/<name>_0.mcap` + metadata.yaml). */
export async function makeSampleBag(dir: string, opts: SampleBagOptions = {}): Promise<SampleBag> {
  const seed = opts.seed ?? 1;
  const durationS = opts.durationS ?? 20;
  const width = opts.width ?? 320;
  const height = opts.height ?? 180;
  const quality = opts.jpegQuality ?? 75;
  const odomHz = opts.odometryRateHz ?? 50;
  const camHz = opts.cameraRateHz ?? 10;
  const t0 = opts.startTimeNs ?? 1_700_000_000_000_000_000n;
  for (const [k, v] of Object.entries({ durationS, width, height, odomHz, camHz })) {
    if (!(Number.isFinite(v) && v > 0)) throw new RangeError(`makeSampleBag: ${k}: expected > 0, got ${v}`);
  }
  if (!(quality >= 1 && quality <= 100))
    throw new RangeError(`makeSampleBag: jpegQuality: expected 1..100, got ${quality}`);

  const rand = seededRandom(seed);
  const drive = new Drive({ durationS, cruiseMps: 10, curveKappa: 1 / 40 });
  const phase = rand() * 2 * Math.PI;
  const scene: Scene = {
    road: drive.pathSamples(1),
    weave: (s) => 0.35 * Math.sin(s / 18 + phase),
    posts: [],
  };
  // The car brakes for a red barrier across the road, waits, and pulls away once it has lifted.
  const stop = drive.stopPose();
  if (stop) {
    scene.barrier = {
      x: stop.x + 4 * Math.cos(stop.yaw),
      y: stop.y + 4 * Math.sin(stop.yaw),
      yaw: stop.yaw,
      halfWidth: 3.8,
      height: 1.6,
      untilS: stop.pullAwayS - 0.3,
    };
  }
  for (const p of drive.pathSamples(14)) {
    const side = rand() < 0.5 ? -1 : 1;
    const off = side * (6 + 3 * rand());
    scene.posts.push({ x: p.x - Math.sin(p.yaw) * off, y: p.y + Math.cos(p.yaw) * off });
  }

  // Events in log-time order: odometry and camera frames with stamp jitter and a small transport delay.
  type Event =
    { logNs: bigint; stampNs: bigint; kind: 'odom' } | { logNs: bigint; stampNs: bigint; kind: 'cam'; cam: CameraSpec };
  const events: Event[] = [];
  const ns = (s: number): bigint => BigInt(Math.round(s * 1e9));
  const jitter = (amp: number): number => (rand() * 2 - 1) * amp;
  for (let k = 0; k * (1 / odomHz) <= durationS; k++) {
    const stamp = Math.max(0, k / odomHz + jitter(0.0003));
    events.push({ kind: 'odom', stampNs: t0 + ns(stamp), logNs: t0 + ns(stamp + 0.001 + rand() * 0.0005) });
  }
  SAMPLE_CAMERAS.forEach((cam, ci) => {
    for (let k = 0; k * (1 / camHz) <= durationS; k++) {
      const stamp = Math.max(0, k / camHz + ci * 0.004 + jitter(0.002));
      events.push({ kind: 'cam', cam, stampNs: t0 + ns(stamp), logNs: t0 + ns(stamp + 0.008 + rand() * 0.004) });
    }
  });
  events.sort((a, b) => (a.logNs < b.logNs ? -1 : a.logNs > b.logNs ? 1 : 0));

  const writer = await createBagWriter(dir, { compression: opts.compression ?? 'none' });
  await writer.addTopic(SAMPLE_ODOMETRY_TOPIC, 'nav_msgs/msg/Odometry', { ...QOS_SENSOR, depth: 50 });
  for (const cam of SAMPLE_CAMERAS)
    await writer.addTopic(sampleCameraTopic(cam.name), 'sensor_msgs/msg/CompressedImage', QOS_SENSOR);
  const timeOf = (stampNs: bigint): number => Number(stampNs - t0) * 1e-9;
  // Render camera frames ahead in small batches (sharp works off the main thread), write in order.
  const BATCH = 16;
  for (let i = 0; i < events.length; i += BATCH) {
    const batch = events.slice(i, i + BATCH);
    const jpegs = await Promise.all(
      batch.map(async (e) => {
        if (e.kind !== 'cam') return undefined;
        const st = drive.at(timeOf(e.stampNs));
        const rgb = renderCamera(scene, st, e.cam, width, height, timeOf(e.stampNs));
        return sharp(rgb, { raw: { width, height, channels: 3 } })
          .jpeg({ quality, chromaSubsampling: '4:2:0' })
          .toBuffer();
      }),
    );
    for (let j = 0; j < batch.length; j++) {
      const e = batch[j]!;
      if (e.kind === 'odom') {
        await writer.write(SAMPLE_ODOMETRY_TOPIC, e.logNs, odometryMessage(drive.at(timeOf(e.stampNs)), e.stampNs));
      } else {
        const msg: CompressedImage = {
          header: { stamp: nanosToStamp(e.stampNs), frame_id: e.cam.name },
          format: 'jpeg',
          data: new Uint8Array(jpegs[j]!),
        };
        await writer.write(sampleCameraTopic(e.cam.name), e.logNs, msg, e.stampNs);
      }
    }
  }
  const written = await writer.close();
  return {
    ...written,
    odometryTopic: SAMPLE_ODOMETRY_TOPIC,
    cameraTopics: SAMPLE_CAMERAS.map((c) => sampleCameraTopic(c.name)),
  };
}

/** Odometry of base_link in odom: pose from the drive, twist in the child frame (v forward, v·κ yaw rate). */
function odometryMessage(st: DriveState, stampNs: bigint): Odometry {
  const poseCov = new Array<number>(36).fill(0);
  const twistCov = new Array<number>(36).fill(0);
  for (let i = 0; i < 6; i++) {
    poseCov[i * 7] = i < 3 ? 0.01 : 0.001;
    twistCov[i * 7] = i < 3 ? 0.0025 : 0.0004;
  }
  return {
    header: { stamp: nanosToStamp(stampNs), frame_id: 'odom' },
    child_frame_id: 'base_link',
    pose: {
      pose: {
        position: { x: st.x, y: st.y, z: 0 },
        orientation: { x: 0, y: 0, z: Math.sin(st.yaw / 2), w: Math.cos(st.yaw / 2) },
      },
      covariance: poseCov,
    },
    twist: {
      twist: { linear: { x: st.v, y: 0, z: 0 }, angular: { x: 0, y: 0, z: st.v * st.kappa } },
      covariance: twistCov,
    },
  };
}
