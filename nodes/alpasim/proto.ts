/**
 * The AlpaSim driver service's wire definition: the project's own .proto files (proto/alpasim_grpc/v0/), loaded at
 * run time with protobufjs and handed to gRPC through @grpc/proto-loader. Message shapes below are what
 * proto-loader yields with DECODE_OPTIONS: field names as in the .proto, 64-bit integers as decimal strings, bytes
 * as Buffers, unset scalars as their defaults and unset messages as null.
 */
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import protobuf from 'protobufjs';
import { fromJSON, type Options, type PackageDefinition } from '@grpc/proto-loader';

const PROTO_ROOT = fileURLToPath(new URL('./proto/', import.meta.url));
const PROTO_FILES = [
  'alpasim_grpc/v0/common.proto',
  'alpasim_grpc/v0/sensorsim.proto',
  'alpasim_grpc/v0/egodriver.proto',
] as const;
export const SERVICE_NAME = 'egodriver.EgodriverService';
/** The AlpaSim gRPC API release these files follow (alpasim_grpc 0.54.0); reported by get_version. */
export const GRPC_API_VERSION = { major: 0, minor: 54, patch: 0 } as const;

export const DECODE_OPTIONS: Options = {
  keepCase: true,
  longs: String,
  enums: String,
  bytes: Buffer,
  defaults: true,
  oneofs: true,
};

export type U64 = string;

export interface Vec3 {
  x: number;
  y: number;
  z: number;
}
interface Quat {
  w: number;
  x: number;
  y: number;
  z: number;
}
export interface Pose {
  vec: Vec3 | null;
  quat: Quat | null;
}
interface PoseAtTime {
  pose: Pose | null;
  timestamp_us: U64;
}
interface TrajectoryWire {
  poses: PoseAtTime[];
}
export interface DynamicStateWire {
  angular_velocity: Vec3 | null;
  linear_velocity: Vec3 | null;
  linear_acceleration: Vec3 | null;
  angular_acceleration: Vec3 | null;
}

interface AvailableCameraWire {
  intrinsics: unknown;
  rig_to_camera: Pose | null;
  logical_id: string;
}
export interface DriveSessionRequestWire {
  session_uuid: string;
  random_seed: U64;
  debug_info?: { scene_id: string } | null;
  rollout_spec: { vehicle: { available_cameras: AvailableCameraWire[] } | null } | null;
}
export interface DriveSessionCloseRequestWire {
  session_uuid: string;
}
export interface RolloutCameraImageWire {
  session_uuid: string;
  camera_image: { frame_start_us: U64; frame_end_us: U64; image_bytes: Buffer; logical_id: string } | null;
}
export interface RolloutEgoTrajectoryWire {
  session_uuid: string;
  trajectory: TrajectoryWire | null;
  dynamic_states: DynamicStateWire[];
}
export interface RouteRequestWire {
  session_uuid: string;
  route: { waypoints: Vec3[]; timestamp_us: U64 } | null;
}
export interface GroundTruthRequestWire {
  session_uuid: string;
  ground_truth: { trajectory: TrajectoryWire | null; timestamp_us: U64 } | null;
}
export interface DriveRequestWire {
  session_uuid: string;
  time_now_us: U64;
  time_query_us: U64;
  renderer_data: Buffer;
}

/** What the driver sends back (encoded by proto-loader: bigint-free, 64-bit values as decimal strings). */
export interface PoseAtTimeOut {
  pose: { vec: Vec3; quat: Quat };
  timestamp_us: string;
}
export interface DriveResponseOut {
  trajectory: { poses: PoseAtTimeOut[] };
  debug_info: { unstructured_debug_info: Buffer; sampled_trajectories: Array<{ poses: PoseAtTimeOut[] }> };
  terminate_session: boolean;
}
export interface VersionIdOut {
  version_id: string;
  git_hash: string;
  grpc_api_version: { major: number; minor: number; patch: number };
}

/** The RPCs of EgodriverService (wire names) with their request message type. */
export const RPCS = {
  start_session: 'egodriver.DriveSessionRequest',
  close_session: 'egodriver.DriveSessionCloseRequest',
  submit_image_observation: 'egodriver.RolloutCameraImage',
  submit_egomotion_observation: 'egodriver.RolloutEgoTrajectory',
  submit_route: 'egodriver.RouteRequest',
  submit_recording_ground_truth: 'egodriver.GroundTruthRequest',
  drive: 'egodriver.DriveRequest',
  get_version: 'common.Empty',
} as const;
export type RpcName = keyof typeof RPCS;

export interface EgodriverProto {
  root: protobuf.Root;
  packageDefinition: PackageDefinition;
}

let cached: EgodriverProto | undefined;

/** Parses the .proto files once (protobufjs) and builds the gRPC package definition from the same root. */
export function loadEgodriverProto(): EgodriverProto {
  if (cached) return cached;
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => join(PROTO_ROOT, target);
  root.loadSync([...PROTO_FILES], { keepCase: true });
  root.resolveAll();
  const packageDefinition = fromJSON(root.toJSON() as protobuf.INamespace, DECODE_OPTIONS);
  cached = { root, packageDefinition };
  return cached;
}
