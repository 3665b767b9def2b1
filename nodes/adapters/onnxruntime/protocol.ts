/** Messages between the engine (main thread) and the inference worker. Frame bytes live in shared pool slots. */
import type { EngineErrorKind, FrameEncoding, PlanResult } from '../../core/engine.js';
import type { LogLevel } from '../../core/logger.js';
import type { FileStamps } from '../../engine/verifyBundle.js';

export interface InitMessage {
  type: 'init'; bundleDir: string; executionProviders: string[]; intraOpThreads?: number;
  /** Stamps of the verification by an earlier worker of this engine: unchanged files are not hashed again. */
  trusted?: FileStamps;
}
export interface FrameRef {
  offset: number; length: number; encoding: FrameEncoding; width: number; height: number; step: number;
  /** camera@stamp: the same frame recurs in up to framesPerCamera consecutive plans. */
  key: string;
}
export interface PlanMessage {
  type: 'plan';
  id: number;
  t0S: number;
  /** Camera-major, oldest first; byte ranges into the pool slot. */
  frames: FrameRef[];
  /** Pool slot holding the frames. */
  slot: number;
  /** The slot's memory, sent only the first time this worker sees the slot. */
  buffer?: SharedArrayBuffer;
  history: { x: Float64Array; y: Float64Array; z: Float64Array; yaw: Float64Array; dt: number };
  seed: number;
  samples: number;
}
export interface CloseMessage { type: 'close' }
export type ToWorker = InitMessage | PlanMessage | CloseMessage;

export type FromWorker =
  | { type: 'ready'; provider: string; stamps: FileStamps }
  | { type: 'init_error'; kind: EngineErrorKind; message: string }
  | { type: 'buffer'; id: number; slot: number }
  | { type: 'result'; id: number; result: Omit<PlanResult, 'provider' | 'bundleId'> }
  | { type: 'error'; id: number; kind: EngineErrorKind; message: string }
  | { type: 'log'; level: LogLevel; message: string }
  | { type: 'closed' };
