import type { MessageTypeName, MessageTypes } from './msgs.js';

/**
 * The ROS field types of every message in msgs.ts, as runtime data: one entry per MessageTypes key, fields in
 * .msg order. Type strings are spelled as a .msg file writes them: "float64", "string", "uint8[]",
 * "float64[36]", "std_msgs/Header", "ar1_msgs/TrajectoryPoint[]". test/core/msgs.test.ts checks this table
 * against msg/msg/*.msg and the ROS 2 Jazzy definitions; the compiler checks it against the interfaces.
 */

export type NumericRosType =
  | 'bool'
  | 'byte'
  | 'char'
  | 'int8'
  | 'uint8'
  | 'int16'
  | 'uint16'
  | 'int32'
  | 'uint32'
  | 'int64'
  | 'uint64'
  | 'float32'
  | 'float64';
type ArraySuffix = '[]' | `[${number}]` | `[<=${number}]`;
type ComplexRosType = `${string}/${string}`;

/** The ROS type strings a TypeScript field type may have: a number field can only be a numeric type, etc. */
export type RosTypeOf<V> = V extends boolean
  ? 'bool'
  : V extends number
    ? Exclude<NumericRosType, 'bool'>
    : V extends string
      ? 'string'
      : V extends ArrayBufferView
        ? `${Exclude<NumericRosType, 'bool'>}${ArraySuffix}`
        : V extends ReadonlyArray<infer E>
          ? `${RosTypeOf<E>}${ArraySuffix}`
          : V extends object
            ? ComplexRosType
            : never;

/** Exactly the interface's keys (none missing, none extra), each with a ROS type compatible with its TS type. */
export type FieldTable<M> = { readonly [K in keyof M]-?: RosTypeOf<M[K]> };

export const MESSAGE_FIELDS = {
  'builtin_interfaces/msg/Time': { sec: 'int32', nanosec: 'uint32' },
  'builtin_interfaces/msg/Duration': { sec: 'int32', nanosec: 'uint32' },
  'std_msgs/msg/Header': { stamp: 'builtin_interfaces/Time', frame_id: 'string' },
  'std_msgs/msg/String': { data: 'string' },
  'std_msgs/msg/Bool': { data: 'bool' },
  'std_msgs/msg/Empty': {},
  'geometry_msgs/msg/Point': { x: 'float64', y: 'float64', z: 'float64' },
  'geometry_msgs/msg/Vector3': { x: 'float64', y: 'float64', z: 'float64' },
  'geometry_msgs/msg/Quaternion': { x: 'float64', y: 'float64', z: 'float64', w: 'float64' },
  'geometry_msgs/msg/Pose': { position: 'geometry_msgs/Point', orientation: 'geometry_msgs/Quaternion' },
  'geometry_msgs/msg/PoseStamped': { header: 'std_msgs/Header', pose: 'geometry_msgs/Pose' },
  'geometry_msgs/msg/Twist': { linear: 'geometry_msgs/Vector3', angular: 'geometry_msgs/Vector3' },
  'geometry_msgs/msg/PoseWithCovariance': { pose: 'geometry_msgs/Pose', covariance: 'float64[36]' },
  'geometry_msgs/msg/TwistWithCovariance': { twist: 'geometry_msgs/Twist', covariance: 'float64[36]' },
  'sensor_msgs/msg/Image': {
    header: 'std_msgs/Header',
    height: 'uint32',
    width: 'uint32',
    encoding: 'string',
    is_bigendian: 'uint8',
    step: 'uint32',
    data: 'uint8[]',
  },
  'sensor_msgs/msg/CompressedImage': { header: 'std_msgs/Header', format: 'string', data: 'uint8[]' },
  'nav_msgs/msg/Odometry': {
    header: 'std_msgs/Header',
    child_frame_id: 'string',
    pose: 'geometry_msgs/PoseWithCovariance',
    twist: 'geometry_msgs/TwistWithCovariance',
  },
  'nav_msgs/msg/Path': { header: 'std_msgs/Header', poses: 'geometry_msgs/PoseStamped[]' },
  'diagnostic_msgs/msg/KeyValue': { key: 'string', value: 'string' },
  'diagnostic_msgs/msg/DiagnosticStatus': {
    level: 'byte',
    name: 'string',
    message: 'string',
    hardware_id: 'string',
    values: 'diagnostic_msgs/KeyValue[]',
  },
  'diagnostic_msgs/msg/DiagnosticArray': { header: 'std_msgs/Header', status: 'diagnostic_msgs/DiagnosticStatus[]' },
  'rosgraph_msgs/msg/Clock': { clock: 'builtin_interfaces/Time' },
  'ar1_msgs/msg/UnicycleCommand': {
    header: 'std_msgs/Header',
    acceleration: 'float64',
    curvature: 'float64',
    speed: 'float64',
    source: 'uint8',
  },
  'ar1_msgs/msg/TrajectoryPoint': {
    t: 'float64',
    x: 'float64',
    y: 'float64',
    heading: 'float64',
    speed: 'float64',
    acceleration: 'float64',
    curvature: 'float64',
  },
  'ar1_msgs/msg/Trajectory': {
    header: 'std_msgs/Header',
    dt: 'float64',
    initial_speed: 'float64',
    bundle_id: 'string',
    points: 'ar1_msgs/TrajectoryPoint[]',
  },
  'ar1_msgs/msg/Reasoning': {
    header: 'std_msgs/Header',
    text: 'string',
    bundle_id: 'string',
    generation_ms: 'float64',
    token_count: 'uint32',
    consistency: 'uint8',
    consistency_detail: 'string',
    stated_actions: 'string[]',
    planned_actions: 'string[]',
  },
  'ar1_msgs/msg/PlannerTiming': {
    header: 'std_msgs/Header',
    sync_ms: 'float64',
    preprocess_ms: 'float64',
    vision_ms: 'float64',
    reasoning_ms: 'float64',
    action_ms: 'float64',
    total_ms: 'float64',
    latency_ms: 'float64',
    execution_provider: 'string',
    frames_received: 'uint32',
    frames_planned: 'uint32',
    frames_dropped: 'uint32',
    drop_reasons: 'string[]',
    drop_counts: 'uint32[]',
    error: 'string',
  },
  'ar1_msgs/msg/SafetyState': {
    header: 'std_msgs/Header',
    state: 'uint8',
    state_name: 'string',
    reasons: 'string[]',
    limits_active: 'string[]',
    plan_age_s: 'float64',
    last_latency_ms: 'float64',
  },
} as const satisfies { readonly [T in MessageTypeName]: FieldTable<MessageTypes[T]> };

/** A field type split into its parts: "float64[36]" → { base: "float64", array: "fixed", length: 36 }. */
export interface ParsedFieldType {
  base: string;
  array: 'none' | 'dynamic' | 'fixed' | 'bounded';
  length?: number;
  complex: boolean;
}

const FIELD_TYPE = /^([A-Za-z][\w]*(?:\/[A-Za-z]\w*)?)(?:\[(<=)?(\d*)\])?$/;

export function parseFieldType(type: string): ParsedFieldType {
  const m = FIELD_TYPE.exec(type);
  if (!m)
    throw new TypeError(`parseFieldType: expected a ROS field type like "float64[36]" or "pkg/Type[]", got "${type}"`);
  const base = m[1]!;
  const complex = base.includes('/');
  if (m[0] === base) return { base, array: 'none', complex };
  if (m[2]) return { base, array: 'bounded', length: Number(m[3]), complex };
  if (m[3]) return { base, array: 'fixed', length: Number(m[3]), complex };
  return { base, array: 'dynamic', complex };
}

/** "std_msgs/Header" → "std_msgs/msg/Header" (the MessageTypes key of a complex field type). */
export function messageTypeName(base: string): MessageTypeName {
  const [pkg, name] = base.split('/');
  const full = `${pkg}/msg/${name}`;
  if (!(full in MESSAGE_FIELDS)) throw new TypeError(`messageTypeName: "${base}" is not a message type of ar1-ros`);
  return full as MessageTypeName;
}

/** Field names and types of a message, in .msg order. */
export function fieldsOf(type: MessageTypeName): Array<[name: string, rosType: string]> {
  return Object.entries(MESSAGE_FIELDS[type]);
}
