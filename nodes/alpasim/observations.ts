/**
 * AlpaSim observations → the planner's ROS inputs: egomotion poses become nav_msgs/Odometry, camera images become
 * sensor_msgs/CompressedImage stamped with their frame end time. Every check names the request field.
 */
import sharp from 'sharp';
import type { CompressedImage, Odometry, Quaternion } from '../core/msgs.js';
import { yawFromQuaternion } from '../planner/egoHistory.js';
import { decodeFailure } from '../core/decodeFailure.js';
import { DriverError, invalid } from './errors.js';
import type { DynamicStateWire, Pose, RolloutEgoTrajectoryWire, U64, Vec3 } from './proto.js';

/** A pose of the rig in AlpaSim's local frame (local->rig), with the rig-frame velocity the watchdog reads. */
export interface EgoPose {
  tUs: bigint;
  x: number;
  y: number;
  z: number;
  q: Quaternion;
  yaw: number;
  /** Rig frame: forward, left, up [m/s]; yaw rate [rad/s]. */
  vx: number;
  vy: number;
  vz: number;
  yawRate: number;
}

/** AlpaSim rejects quaternions whose squared length is further than this from 1 (and normalises those within). */
const QUAT_TOLERANCE = 1e-4;

export function parseUs(field: string, value: U64): bigint {
  let v: bigint;
  try {
    v = BigInt(value);
  } catch {
    throw invalid(`${field}: expected a timestamp in µs, got "${value}"`);
  }
  if (v < 0n) throw invalid(`${field}: expected a timestamp in µs >= 0, got ${v}`);
  return v;
}

export const usToMs = (us: bigint): number => Number(us) / 1000;
export const usToStamp = (us: bigint) => ({ sec: Number(us / 1_000_000n), nanosec: Number(us % 1_000_000n) * 1000 });

function finiteVec(field: string, v: Vec3 | null | undefined, required: boolean): Vec3 {
  if (!v) {
    if (required) throw invalid(`${field}: expected a Vec3, got none`);
    return { x: 0, y: 0, z: 0 };
  }
  for (const k of ['x', 'y', 'z'] as const) {
    if (!Number.isFinite(v[k])) throw invalid(`${field}.${k}: expected a finite number, got ${v[k]}`);
  }
  return v;
}

/** A unit quaternion from the wire: normalised when |len²−1| ≤ 1e-4 (as AlpaSim does), refused otherwise. */
export function unitQuat(
  field: string,
  q: { w: number; x: number; y: number; z: number } | null | undefined,
): Quaternion {
  if (!q) throw invalid(`${field}: expected a quaternion, got none`);
  for (const k of ['w', 'x', 'y', 'z'] as const) {
    if (!Number.isFinite(q[k])) throw invalid(`${field}.${k}: expected a finite number, got ${q[k]}`);
  }
  const n2 = q.w * q.w + q.x * q.x + q.y * q.y + q.z * q.z;
  if (!(Math.abs(n2 - 1) <= QUAT_TOLERANCE)) {
    throw invalid(
      `${field}: expected a unit quaternion (|q|² within ${QUAT_TOLERANCE} of 1), got |q|² = ${n2.toPrecision(6)}`,
    );
  }
  const n = Math.sqrt(n2);
  return { w: q.w / n, x: q.x / n, y: q.y / n, z: q.z / n };
}

function poseOf(field: string, p: Pose | null | undefined): { vec: Vec3; q: Quaternion } {
  if (!p) throw invalid(`${field}: expected a pose, got none`);
  return { vec: finiteVec(`${field}.vec`, p.vec, true), q: unitQuat(`${field}.quat`, p.quat) };
}

/**
 * Egomotion → ego poses, oldest first. Timestamps strictly increasing; dynamic_states one per pose. In a rollout's
 * first batch AlpaSim fills linear_velocity with local-frame position derivatives: those are rotated into the rig
 * frame here, so the odometry twist is always rig-frame as ROS expects.
 */
export function egomotionPoses(req: RolloutEgoTrajectoryWire, firstBatch: boolean, maxPoses: number): EgoPose[] {
  const poses = req.trajectory?.poses ?? [];
  if (poses.length === 0) throw invalid('trajectory.poses: expected at least one pose, got none');
  if (poses.length > maxPoses) {
    throw new DriverError(
      'RESOURCE_EXHAUSTED',
      `trajectory.poses: expected at most ${maxPoses} poses per request, got ${poses.length}`,
    );
  }
  const states = req.dynamic_states ?? [];
  if (states.length !== poses.length) {
    throw invalid(`dynamic_states: expected ${poses.length} (one per trajectory pose), got ${states.length}`);
  }
  const out: EgoPose[] = [];
  let prev: bigint | undefined;
  poses.forEach((pt, i) => {
    const field = `trajectory.poses[${i}]`;
    const tUs = parseUs(`${field}.timestamp_us`, pt.timestamp_us);
    if (prev !== undefined && tUs <= prev) {
      throw invalid(`${field}.timestamp_us: expected strictly increasing timestamps, got ${tUs} after ${prev}`);
    }
    prev = tUs;
    const { vec, q } = poseOf(`${field}.pose`, pt.pose);
    const yaw = yawFromQuaternion(q);
    const ds: DynamicStateWire = states[i]!;
    const lin = finiteVec(`dynamic_states[${i}].linear_velocity`, ds.linear_velocity, false);
    const ang = finiteVec(`dynamic_states[${i}].angular_velocity`, ds.angular_velocity, false);
    let vx = lin.x;
    let vy = lin.y;
    if (firstBatch) {
      const c = Math.cos(yaw);
      const s = Math.sin(yaw);
      vx = c * lin.x + s * lin.y;
      vy = -s * lin.x + c * lin.y;
    }
    out.push({ tUs, x: vec.x, y: vec.y, z: vec.z, q, yaw, vx, vy, vz: lin.z, yawRate: ang.z });
  });
  return out;
}

const ZERO_COV = (): number[] => new Array<number>(36).fill(0);

/** nav_msgs/Odometry of the rig (child base_link) in AlpaSim's local frame; twist in the rig frame. */
export function odometryMessage(p: EgoPose, frameId: string, childFrameId: string): Odometry {
  return {
    header: { stamp: usToStamp(p.tUs), frame_id: frameId },
    child_frame_id: childFrameId,
    pose: { pose: { position: { x: p.x, y: p.y, z: p.z }, orientation: { ...p.q } }, covariance: ZERO_COV() },
    twist: {
      twist: { linear: { x: p.vx, y: p.vy, z: p.vz }, angular: { x: 0, y: 0, z: p.yawRate } },
      covariance: ZERO_COV(),
    },
  };
}

export interface PreparedImage {
  format: 'jpeg' | 'png';
  data: Uint8Array;
  /** The image was resized to the bundle's native size (and re-encoded as JPEG). */
  resized: boolean;
}

/**
 * Checks an encoded still by decoding it fully (a truncated or corrupt file is refused here, not later in the
 * engine) and brings it to the bundle's native size. An image already at that size is passed on unchanged.
 */
export async function prepareImage(
  field: string,
  bytes: Uint8Array,
  size: { width: number; height: number },
): Promise<PreparedImage> {
  if (bytes.length === 0) throw invalid(`${field}: expected JPEG or PNG bytes, got 0 bytes`);
  let format: string | undefined;
  let width: number;
  let height: number;
  let raw: Buffer;
  let channels: 1 | 2 | 3 | 4;
  let stage: 'header' | 'pixels' = 'header';
  try {
    const img = sharp(bytes, { failOn: 'warning' });
    const meta = await img.metadata();
    stage = 'pixels';
    format = meta.format;
    if (format !== 'jpeg' && format !== 'png') {
      throw invalid(`${field}: expected JPEG or PNG, got ${format ?? 'an unknown format'} (${bytes.length} bytes)`);
    }
    const decoded = await img.removeAlpha().raw().toBuffer({ resolveWithObject: true });
    raw = decoded.data;
    width = decoded.info.width;
    height = decoded.info.height;
    channels = decoded.info.channels;
  } catch (e) {
    if (e instanceof DriverError) throw e;
    throw invalid(`${field}: cannot decode the image (${bytes.length} bytes): ${decodeFailure(stage)}`);
  }
  if (width === size.width && height === size.height) return { format, data: bytes, resized: false };
  const resizedJpeg = await sharp(raw, { raw: { width, height, channels } })
    .resize(size.width, size.height, { fit: 'fill', kernel: 'cubic' })
    .jpeg({ quality: 95 })
    .toBuffer();
  return {
    format: 'jpeg',
    data: new Uint8Array(resizedJpeg.buffer, resizedJpeg.byteOffset, resizedJpeg.byteLength),
    resized: true,
  };
}

export function compressedImageMessage(image: PreparedImage, frameEndUs: bigint, frameId: string): CompressedImage {
  return { header: { stamp: usToStamp(frameEndUs), frame_id: frameId }, format: image.format, data: image.data };
}
