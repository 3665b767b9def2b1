/**
 * TypeScript shapes of every ROS message the suite reads or writes, with ROS field names.
 * test/core/msgs.test.ts checks them field by field against msg/*.msg and the ROS 2 Jazzy definitions,
 * through the runtime field tables in msgFields.ts, so the two cannot drift.
 */

// builtin_interfaces
export interface Time {
  sec: number;
  nanosec: number;
}
export interface Duration {
  sec: number;
  nanosec: number;
}

// std_msgs
export interface Header {
  stamp: Time;
  frame_id: string;
}
export interface StringMsg {
  data: string;
}
export interface Bool {
  data: boolean;
}
/** std_msgs/Empty: no fields. */
export type Empty = Record<string, never>;

// geometry_msgs
export interface Point {
  x: number;
  y: number;
  z: number;
}
export interface Vector3 {
  x: number;
  y: number;
  z: number;
}
export interface Quaternion {
  x: number;
  y: number;
  z: number;
  w: number;
}
export interface Pose {
  position: Point;
  orientation: Quaternion;
}
export interface PoseStamped {
  header: Header;
  pose: Pose;
}
export interface Twist {
  linear: Vector3;
  angular: Vector3;
}
export interface PoseWithCovariance {
  pose: Pose;
  covariance: Float64Array | number[];
}
export interface TwistWithCovariance {
  twist: Twist;
  covariance: Float64Array | number[];
}

// sensor_msgs
export interface Image {
  header: Header;
  height: number;
  width: number;
  encoding: string;
  is_bigendian: number;
  step: number;
  data: Uint8Array;
}
export interface CompressedImage {
  header: Header;
  format: string;
  data: Uint8Array;
}

// nav_msgs
export interface Odometry {
  header: Header;
  child_frame_id: string;
  pose: PoseWithCovariance;
  twist: TwistWithCovariance;
}
export interface Path {
  header: Header;
  poses: PoseStamped[];
}

// diagnostic_msgs
export interface KeyValue {
  key: string;
  value: string;
}
export interface DiagnosticStatus {
  level: number;
  name: string;
  message: string;
  hardware_id: string;
  values: KeyValue[];
}
export interface DiagnosticArray {
  header: Header;
  status: DiagnosticStatus[];
}

// rosgraph_msgs
export interface ClockMsg {
  clock: Time;
}

// ar1_msgs
export const UNICYCLE_SOURCE = { planner: 0, fallback: 1, hold: 2 } as const;
export type UnicycleSource = keyof typeof UNICYCLE_SOURCE;
export interface UnicycleCommand {
  header: Header;
  acceleration: number;
  curvature: number;
  speed: number;
  source: number;
}
export interface TrajectoryPoint {
  t: number;
  x: number;
  y: number;
  heading: number;
  speed: number;
  acceleration: number;
  curvature: number;
}
export interface Trajectory {
  header: Header;
  dt: number;
  initial_speed: number;
  bundle_id: string;
  points: TrajectoryPoint[];
}
export const CONSISTENCY = { not_assessable: 0, consistent: 1, inconsistent: 2 } as const;
export type ConsistencyName = keyof typeof CONSISTENCY;
export interface Reasoning {
  header: Header;
  text: string;
  bundle_id: string;
  generation_ms: number;
  token_count: number;
  consistency: number;
  consistency_detail: string;
  stated_actions: string[];
  planned_actions: string[];
}
export interface PlannerTiming {
  header: Header;
  sync_ms: number;
  preprocess_ms: number;
  vision_ms: number;
  reasoning_ms: number;
  action_ms: number;
  total_ms: number;
  latency_ms: number;
  execution_provider: string;
  frames_received: number;
  frames_planned: number;
  frames_dropped: number;
  drop_reasons: string[];
  drop_counts: Uint32Array | number[];
  /**
   * Why this plan failed, "<kind>: <message>": an engine error kind, `unexpected`, `invalid_result` (the result was
   * refused) or `plan_timeout` (abandoned); empty when the plan succeeded.
   */
  error: string;
}
export const SAFETY_STATE = { disengaged: 0, nominal: 1, fallback: 2, stopped: 3 } as const;
export type SafetyStateName = keyof typeof SAFETY_STATE;
export interface SafetyState {
  header: Header;
  state: number;
  state_name: string;
  reasons: string[];
  limits_active: string[];
  plan_age_s: number;
  last_latency_ms: number;
}

/** Every message type the suite uses, by its ROS 2 name. */
export interface MessageTypes {
  'builtin_interfaces/msg/Time': Time;
  'builtin_interfaces/msg/Duration': Duration;
  'std_msgs/msg/Header': Header;
  'std_msgs/msg/String': StringMsg;
  'std_msgs/msg/Bool': Bool;
  'std_msgs/msg/Empty': Empty;
  'geometry_msgs/msg/Point': Point;
  'geometry_msgs/msg/Vector3': Vector3;
  'geometry_msgs/msg/Quaternion': Quaternion;
  'geometry_msgs/msg/Pose': Pose;
  'geometry_msgs/msg/PoseStamped': PoseStamped;
  'geometry_msgs/msg/Twist': Twist;
  'geometry_msgs/msg/PoseWithCovariance': PoseWithCovariance;
  'geometry_msgs/msg/TwistWithCovariance': TwistWithCovariance;
  'sensor_msgs/msg/Image': Image;
  'sensor_msgs/msg/CompressedImage': CompressedImage;
  'nav_msgs/msg/Odometry': Odometry;
  'nav_msgs/msg/Path': Path;
  'diagnostic_msgs/msg/KeyValue': KeyValue;
  'diagnostic_msgs/msg/DiagnosticStatus': DiagnosticStatus;
  'diagnostic_msgs/msg/DiagnosticArray': DiagnosticArray;
  'rosgraph_msgs/msg/Clock': ClockMsg;
  'ar1_msgs/msg/UnicycleCommand': UnicycleCommand;
  'ar1_msgs/msg/TrajectoryPoint': TrajectoryPoint;
  'ar1_msgs/msg/Trajectory': Trajectory;
  'ar1_msgs/msg/Reasoning': Reasoning;
  'ar1_msgs/msg/PlannerTiming': PlannerTiming;
  'ar1_msgs/msg/SafetyState': SafetyState;
}
export type MessageTypeName = keyof MessageTypes;
export type MessageOf<T extends MessageTypeName> = MessageTypes[T];
