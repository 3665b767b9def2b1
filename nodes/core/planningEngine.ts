/**
 * The inference port: what the planner hands to AR1 and what it gets back. Implemented by
 * adapters/onnxruntime (a worker thread running the bundle) and by fakes in tests. Pure data, no I/O.
 */

/** Pixel encodings accepted for a camera frame (sensor_msgs/Image encodings, or compressed formats). */
export type FrameEncoding = 'rgb8' | 'bgr8' | 'rgba8' | 'bgra8' | 'mono8' | 'jpeg' | 'png';

export interface CameraFrame {
  /** Camera name, e.g. camera_front_wide_120fov. */
  camera: string;
  /** Header stamp [s]. */
  stampS: number;
  encoding: FrameEncoding;
  /** Pixel size; for jpeg/png the decoder checks it when known (0 = take the decoded size). */
  width: number;
  height: number;
  /** Row stride in bytes for raw encodings (0 for compressed). */
  step: number;
  data: Uint8Array;
}

/** Ego history: poses in the rig frame at t0 (x forward, y left), oldest first; the last pose is the origin. */
export interface EgoHistory {
  x: Float64Array;
  y: Float64Array;
  z: Float64Array;
  /** Yaw [rad] relative to the t0 heading. */
  yaw: Float64Array;
  /** Spacing [s], 0.1 for AR1. */
  dt: number;
}

export interface PlanInput {
  /** Plan time [s]: the newest frame time all cameras have reached. */
  t0S: number;
  /** frames[camera][k]: cameras in the bundle's order, k = 0 oldest … framesPerCamera−1 newest (at t0). */
  frames: CameraFrame[][];
  history: EgoHistory;
  /** Seed for token sampling and flow-matching noise; same seed + same input → same plan. */
  seed: number;
  /** Trajectory samples to draw (AR1 reports minADE over 6); the first is the one driven. Default 1. */
  samples?: number;
}

/** One rolled-out trajectory: waypoints 1..N after t0, float64. */
export interface PlanTrajectory {
  dt: number;
  t: Float64Array;
  x: Float64Array;
  y: Float64Array;
  heading: Float64Array;
  speed: Float64Array;
  acceleration: Float64Array;
  curvature: Float64Array;
}

/** Milliseconds per stage of one plan. sessionRunMs is the time spent inside onnxruntime session.run calls. */
export interface PlanTiming {
  preprocessMs: number;
  visionMs: number;
  reasoningMs: number;
  actionMs: number;
  totalMs: number;
  sessionRunMs: number;
}

export interface PlanResult {
  t0S: number;
  /** Initial speed v0 [m/s] estimated from the history. */
  v0: number;
  reasoning: { text: string; tokens: number; generationMs: number };
  /** The plan to drive (sample 0). */
  trajectory: PlanTrajectory;
  /** All samples, trajectory first; length = samples. */
  samples: PlanTrajectory[];
  timing: PlanTiming;
  /** Execution provider in use (cuda, tensorrt, cpu). */
  provider: string;
  /** "id@version" of the bundle. */
  bundleId: string;
}

/** What the engine expects, read from the bundle manifest. */
export interface EngineContract {
  bundleId: string;
  cameras: readonly string[];
  framesPerCamera: number;
  /** Spacing between the frames of one camera [s] (0.1). */
  frameSpacingS: number;
  /** Native image size the bundle expects (e.g. 1080×1920); frames of another size are refused. */
  imageWidth: number;
  imageHeight: number;
  historySteps: number;
  historyDtS: number;
  trajectorySteps: number;
  trajectoryDtS: number;
}

export interface PlanningEngine {
  readonly contract: EngineContract;
  readonly provider: string;
  /** Rejects with an EngineError on bad input or a failing graph; the engine stays usable. */
  plan(input: PlanInput): Promise<PlanResult>;
  /**
   * Optional: several plans in one engine call (batched inference, e.g. the plans pending across bags replayed at
   * once). One promise per input, in order. Each result equals what plan() gives for that input alone, bit for bit
   * (only `timing` differs: runs shared by the batch count for each of its plans), and a failing input rejects only
   * its own promise. Engines without it are called plan by plan.
   */
  planBatch?(inputs: readonly PlanInput[]): Promise<PlanResult>[];
  close(): Promise<void>;
  /**
   * Optional: a store that keeps received frames in memory the engine reads directly (the onnxruntime engine's
   * shared-memory rings), so plan() copies no frame bytes. Engines without one copy what plan() gets.
   */
  createFrameStore?(options: FrameStoreOptions): FrameStore;
}

export interface FrameStoreOptions {
  /** Frames each camera may hold at once (its buffer, the inputs pending and in flight, the one arriving). */
  slotsPerCamera: number;
}

/** A frame admitted to a FrameStore: `frame.data` views the store's memory until release(). */
export interface HeldFrame {
  readonly frame: CameraFrame;
  /** The holder is done with it; the slot is reused once the engine is done with it too. Idempotent. */
  release(): void;
}

/**
 * Where received frames are written once. admit() takes a free slot of the camera's ring, starts copying the bytes
 * into it (the only copy of a frame on the receiving thread; it may finish over the next event-loop turns, and the
 * engine waits for it before reading) and returns the frame viewing that slot; undefined when every slot of that
 * camera is still held (the caller counts the frame as dropped, reason frame_ring_full). A slot is never reused
 * while its holder or a plan still uses it. The caller keeps the source bytes unchanged (a fresh message buffer).
 * A caller's mistake throws a TypeError: a camera index outside the contract, or data that is not a Uint8Array (the
 * planner refuses such a message before it gets here). A copy that fails later fails only the plans that use it.
 */
export interface FrameStore {
  admit(camera: number, frame: CameraFrame): HeldFrame | undefined;
  /** The holder is gone (node stopped): the memory goes once no plan uses it; admit() refuses from now on. */
  close(): void;
}

export type EngineErrorKind = 'input' | 'bundle' | 'runtime' | 'non_finite' | 'worker_crashed' | 'closed';

/** One frame of a plan's input: `input.frames[camera][index]`. */
export interface FrameIndex {
  camera: number;
  index: number;
}

export class EngineError extends Error {
  override readonly name = 'EngineError';
  constructor(
    readonly kind: EngineErrorKind,
    message: string,
    /** For an 'input' error caused by one frame (refused, or its bytes do not decode): that frame. */
    readonly frame?: FrameIndex,
  ) {
    super(message);
  }
}
