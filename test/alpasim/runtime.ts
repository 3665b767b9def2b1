/**
 * The AlpaSim runtime's side, for tests: a gRPC client over the loopback and a scripted rollout (a car driving a
 * gentle curve, four cameras rendering every 100 ms, egomotion per step, drive at each step start).
 */
import * as grpc from '@grpc/grpc-js';
import sharp from 'sharp';
import { loadEgodriverProto, SERVICE_NAME } from '../../nodes/alpasim/proto.js';

export type Client = grpc.Client &
  Record<string, (req: unknown, cb: (err: grpc.ServiceError | null, res: unknown) => void) => void>;

export function connect(port: number): Client {
  const def = loadEgodriverProto().packageDefinition;
  const Ctor = grpc.makeGenericClientConstructor(def[SERVICE_NAME] as grpc.ServiceDefinition, 'EgodriverService');
  return new Ctor(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as unknown as Client;
}

export function call<T = unknown>(client: Client, rpc: string, req: unknown): Promise<T> {
  return new Promise((resolve, reject) => client[rpc]!(req, (err, res) => (err ? reject(err) : resolve(res as T))));
}

/** Sends raw bytes as the request of an RPC (malformed-request tests). */
export function callRaw(client: grpc.Client, rpc: string, bytes: Buffer): Promise<unknown> {
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest(
      `/${SERVICE_NAME}/${rpc}`,
      (b: Buffer) => b,
      (b: Buffer) => b,
      bytes,
      (err, res) => (err ? reject(err) : resolve(res)),
    );
  });
}

export const CAMERAS = [
  'camera_cross_left_120fov',
  'camera_front_wide_120fov',
  'camera_cross_right_120fov',
  'camera_front_tele_30fov',
];

export function cameraSpec(ids: readonly string[]) {
  return ids.map((id) => ({
    logical_id: id,
    rig_to_camera: { vec: { x: 1.67, y: 0, z: 1.5 }, quat: { w: 0.5, x: -0.5, y: 0.5, z: -0.5 } },
    intrinsics: {
      logical_id: id,
      resolution_h: 1080,
      resolution_w: 1920,
      ftheta_param: { principal_point_x: 960, principal_point_y: 540, max_angle: 1.5 },
    },
  }));
}

/** A few JPEG stills of the bundle's size, different per camera and step (so plans depend on them). */
export async function makeImages(width: number, height: number, count: number): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const raw = Buffer.alloc(width * height * 3);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const o = (y * width + x) * 3;
        raw[o] = (x * 3 + i * 17) & 255;
        raw[o + 1] = y > height / 2 ? 90 + ((x + i * 5) % 40) : 200;
        raw[o + 2] = (y * 2 + i * 29) & 255;
      }
    }
    out.push(
      await sharp(raw, { raw: { width, height, channels: 3 } })
        .jpeg({ quality: 90 })
        .toBuffer(),
    );
  }
  return out;
}

/** The ego state along the scripted drive at tS seconds after the start: 10 m/s on a curve of 1/200 m. */
export function egoAt(tS: number, speed = 10, curvature = 0.005) {
  const yaw0 = 0.3;
  const yaw = yaw0 + speed * curvature * tS;
  const x = 100 + (Math.sin(yaw) - Math.sin(yaw0)) / curvature;
  const y = -50 - (Math.cos(yaw) - Math.cos(yaw0)) / curvature;
  return { x, y, z: 1.25, yaw, speed, yawRate: speed * curvature };
}

export const START_US = 1_700_000_000_000_000n;
export const us = (tS: number) => START_US + BigInt(Math.round(tS * 1e6));

export function poseAtTime(tS: number) {
  const e = egoAt(tS);
  return {
    pose: { vec: { x: e.x, y: e.y, z: e.z }, quat: { w: Math.cos(e.yaw / 2), x: 0, y: 0, z: Math.sin(e.yaw / 2) } },
    timestamp_us: us(tS).toString(),
  };
}

/** Egomotion for poses at the given times; first = true gives AlpaSim's first batch (local-frame velocities). */
export function egomotion(session: string, times: number[], first: boolean) {
  return {
    session_uuid: session,
    trajectory: { poses: times.map(poseAtTime) },
    dynamic_states: times.map((t) => {
      const e = egoAt(t);
      const v = first
        ? { x: e.speed * Math.cos(e.yaw), y: e.speed * Math.sin(e.yaw), z: 0 }
        : { x: e.speed, y: 0, z: 0 };
      return {
        linear_velocity: v,
        angular_velocity: { x: 0, y: 0, z: e.yawRate },
        linear_acceleration: { x: 0, y: 0, z: 0 },
        angular_acceleration: { x: 0, y: 0, z: 0 },
      };
    }),
  };
}

export interface DriveReply {
  trajectory: {
    poses: Array<{
      pose: { vec: { x: number; y: number; z: number }; quat: { w: number; x: number; y: number; z: number } };
      timestamp_us: string;
    }>;
  } | null;
  debug_info: { unstructured_debug_info: Buffer; sampled_trajectories: unknown[] } | null;
  terminate_session: boolean;
}

export interface RolloutOptions {
  session: string;
  images: Buffer[];
  /** Steps of 100 ms after the start (the first step is at 0.0 s). */
  steps: number;
  /** Skip drive during the first warm-up steps, as AlpaSim does during force-GT (observations still sent). */
  warmupSteps?: number;
  /** Steps at which no images are sent (camera dropout). */
  noImagesFrom?: number;
  seed?: string;
}

/** A whole rollout as the runtime runs it: start, the first egomotion batch, then per step images + egomotion + route + drive; close. */
export async function rollout(client: Client, o: RolloutOptions): Promise<DriveReply[]> {
  await call(client, 'start_session', {
    session_uuid: o.session,
    random_seed: o.seed ?? '42',
    debug_info: { scene_id: 'clipgt-test' },
    rollout_spec: { vehicle: { available_cameras: cameraSpec(CAMERAS) } },
  });
  const replies: DriveReply[] = [];
  // First batch: the recorded poses from 2 s before the start up to it, at 10 Hz.
  await call(
    client,
    'submit_egomotion_observation',
    egomotion(
      o.session,
      Array.from({ length: 21 }, (_, i) => -2 + i * 0.1),
      true,
    ),
  );
  for (let k = 0; k < o.steps; k++) {
    const t = k * 0.1;
    const submits: Array<Promise<unknown>> = [];
    if (o.noImagesFrom === undefined || k < o.noImagesFrom) {
      CAMERAS.forEach((cam, c) => {
        submits.push(
          call(client, 'submit_image_observation', {
            session_uuid: o.session,
            camera_image: {
              frame_start_us: us(t - 0.03).toString(),
              frame_end_us: us(t).toString(),
              image_bytes: o.images[(k + c) % o.images.length],
              logical_id: cam,
            },
          }),
        );
      });
    }
    if (k > 0) submits.push(call(client, 'submit_egomotion_observation', egomotion(o.session, [t], false)));
    submits.push(
      call(client, 'submit_route', {
        session_uuid: o.session,
        route: {
          waypoints: [
            { x: 0, y: 0, z: 0 },
            { x: 4.2, y: 0, z: 0 },
          ],
          timestamp_us: us(t).toString(),
        },
      }),
    );
    await Promise.all(submits);
    if (k < (o.warmupSteps ?? 0)) continue;
    replies.push(
      await call<DriveReply>(client, 'drive', {
        session_uuid: o.session,
        time_now_us: us(t).toString(),
        time_query_us: us(t + 0.1).toString(),
      }),
    );
  }
  await call(client, 'close_session', { session_uuid: o.session });
  return replies;
}
