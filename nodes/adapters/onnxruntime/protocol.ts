/** Messages between the engine (main thread) and the inference worker. Frame bytes live in shared slots (ring or pool). */
import type {
  CameraFrame,
  EgoHistory,
  EngineErrorKind,
  FrameEncoding,
  FrameIndex,
  PlanResult,
} from '../../core/planningEngine.js';
import type { LogLevel } from '../../core/logger.js';
import type { FileStamps } from '../../bundle/verifyBundle.js';

export interface InitMessage {
  type: 'init';
  bundleDir: string;
  executionProviders: string[];
  intraOpThreads?: number;
  /** Stamps of the verification by an earlier worker of this engine: unchanged files are not hashed again. */
  trusted?: FileStamps;
}
export interface FrameRef {
  /** The shared buffer (a ring slot, or the plan's pool slot) holding the bytes, by id. */
  slot: number;
  offset: number;
  length: number;
  encoding: FrameEncoding;
  width: number;
  height: number;
  step: number;
  /**
   * Names the frame for the worker's preprocessing cache: the same frame recurs in up to framesPerCamera consecutive
   * plans. Ring frames: slot id and write generation. Copied frames: camera@stamp and the id of the source bytes.
   * Either names the pixels exactly.
   */
  key: string;
}
/**
 * A plan's frames as one table of numbers, FRAME_FIELDS per frame (camera-major, oldest first), decoded by frameRef().
 * One typed array is what the main thread builds and clones per plan instead of 16 objects: posting one plan every
 * 20 ms took ~70 µs as objects and ~30 µs as a table (docs/performance.md).
 */
export const FRAME_FIELDS = 9;
const SLOT = 0;
const OFFSET = 1;
const LENGTH = 2;
const WIDTH = 3;
const HEIGHT = 4;
const STEP = 5;
/**
 * A ring slot's write generation (≥ 0: the frame's name with the slot), or for a frame copied into the pool −1 − the
 * id of its source bytes (planFrames' copiedFrameId: its name with the camera and stamp).
 */
const GENERATION = 6;
const ENCODING = 7;
const STAMP = 8;
const ENCODINGS: readonly FrameEncoding[] = ['rgb8', 'bgr8', 'rgba8', 'bgra8', 'mono8', 'jpeg', 'png'];
const ENCODING_INDEX: Readonly<Record<FrameEncoding, number>> = {
  rgb8: 0,
  bgr8: 1,
  rgba8: 2,
  bgra8: 3,
  mono8: 4,
  jpeg: 5,
  png: 6,
};

/** Writes frame `i` of a frame table: `generation` ≥ 0 for a ring slot's write, −1 − the source's id for a pool copy. */
export function writeFrameRow(
  table: Float64Array,
  i: number,
  slot: number,
  offset: number,
  f: CameraFrame,
  generation: number,
): void {
  const o = i * FRAME_FIELDS;
  table[o + SLOT] = slot;
  table[o + OFFSET] = offset;
  table[o + LENGTH] = f.data.length;
  table[o + WIDTH] = f.width;
  table[o + HEIGHT] = f.height;
  table[o + STEP] = f.step;
  table[o + GENERATION] = generation;
  table[o + ENCODING] = ENCODING_INDEX[f.encoding];
  table[o + STAMP] = f.stampS;
}

/** Frame `i` of a frame table (the worker's side); `camera` names the copied frames' cache key. */
export function frameRef(table: Float64Array, i: number, camera: string): FrameRef {
  const o = i * FRAME_FIELDS;
  const generation = table[o + GENERATION]!;
  const slot = table[o + SLOT]!;
  const ring = generation >= 0;
  return {
    slot,
    offset: table[o + OFFSET]!,
    length: table[o + LENGTH]!,
    encoding: ENCODINGS[table[o + ENCODING]!]!,
    width: table[o + WIDTH]!,
    height: table[o + HEIGHT]!,
    step: table[o + STEP]!,
    key: ring ? `${slot}.${generation}` : `${camera}@${table[o + STAMP]!}#${-1 - generation}`,
  };
}

/**
 * A plan's ego history in one Float64Array, x, y, z, yaw one after another: a copy (the caller may reuse its arrays
 * before the message goes out), and a Float64Array of 16 values lies outside V8's heap, so four of them cost ~12 µs of
 * plan() where one costs ~3.
 */
export function packHistory(h: EgoHistory): Float64Array {
  const n = h.x.length;
  const a = new Float64Array(4 * n);
  a.set(h.x, 0);
  a.set(h.y, n);
  a.set(h.z, 2 * n);
  a.set(h.yaw, 3 * n);
  return a;
}

/** The worker's side of packHistory: views of the one array. */
export function unpackHistory(a: Float64Array, dt: number): EgoHistory {
  const n = a.length / 4;
  return { x: a.subarray(0, n), y: a.subarray(n, 2 * n), z: a.subarray(2 * n, 3 * n), yaw: a.subarray(3 * n), dt };
}

export interface PlanMessage {
  type: 'plan';
  id: number;
  t0S: number;
  /** Camera-major, oldest first; byte ranges into shared slots (writeFrameRow, frameRef). */
  frames: Float64Array;
  /** The memory of slots this worker has not seen yet (each slot is sent once per worker). */
  buffers: Array<{ slot: number; buffer: SharedArrayBuffer }>;
  /** Slots replaced or closed and held by no plan: the worker drops its reference. */
  forget: number[];
  /** Ego history: x, y, z, yaw one after another (historySteps values each; packHistory). */
  history: Float64Array;
  historyDtS: number;
  seed: number;
  samples: number;
}
/** Several plans in one pass (runPipelineBatch); each answers with its own 'buffer' and 'result' or 'error'. */
interface BatchMessage {
  type: 'batch';
  plans: PlanMessage[];
}
interface CloseMessage {
  type: 'close';
}
/**
 * The engine has given up on this worker (restartWorker): it starts no graph run from now on, answers nothing more,
 * and exits once the run it is in returns. Terminating it instead while onnxruntime runs a graph aborts the process.
 */
interface RetireMessage {
  type: 'retire';
}
export type ToWorker = InitMessage | PlanMessage | BatchMessage | CloseMessage | RetireMessage;

export type FromWorker =
  | { type: 'ready'; provider: string; stamps: FileStamps }
  | { type: 'init_error'; kind: EngineErrorKind; message: string }
  /** The worker is done reading plan `id`'s frames (preprocessed): their slots may be reused. */
  | { type: 'buffer'; id: number }
  | { type: 'result'; id: number; result: Omit<PlanResult, 'provider' | 'bundleId'> }
  | { type: 'error'; id: number; kind: EngineErrorKind; message: string; frame?: FrameIndex }
  | { type: 'log'; level: LogLevel; message: string }
  | { type: 'closed' };
