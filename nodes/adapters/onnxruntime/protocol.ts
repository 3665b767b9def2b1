/** Messages between the engine (main thread) and the inference worker. Frame bytes live in shared slots (ring or pool). */
import type { EngineErrorKind, FrameEncoding, PlanResult } from '../../core/planningEngine.js';
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
   * plans. Ring frames: slot id and write generation (exact). Copied frames: camera@stamp, checked with a content
   * fingerprint.
   */
  key: string;
  exact: boolean;
}
export interface PlanMessage {
  type: 'plan';
  id: number;
  t0S: number;
  /** Camera-major, oldest first; byte ranges into shared slots. */
  frames: FrameRef[];
  /** The memory of slots this worker has not seen yet (each slot is sent once per worker). */
  buffers: Array<{ slot: number; buffer: SharedArrayBuffer }>;
  /** Slots replaced or closed and held by no plan: the worker drops its reference. */
  forget: number[];
  history: { x: Float64Array; y: Float64Array; z: Float64Array; yaw: Float64Array; dt: number };
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
export type ToWorker = InitMessage | PlanMessage | BatchMessage | CloseMessage;

export type FromWorker =
  | { type: 'ready'; provider: string; stamps: FileStamps }
  | { type: 'init_error'; kind: EngineErrorKind; message: string }
  /** The worker is done reading plan `id`'s frames (preprocessed): their slots may be reused. */
  | { type: 'buffer'; id: number }
  | { type: 'result'; id: number; result: Omit<PlanResult, 'provider' | 'bundleId'> }
  | { type: 'error'; id: number; kind: EngineErrorKind; message: string }
  | { type: 'log'; level: LogLevel; message: string }
  | { type: 'closed' };
