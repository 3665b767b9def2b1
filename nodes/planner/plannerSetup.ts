import { UserError } from '../core/errors.js';
import type { EngineContract } from '../core/planningEngine.js';
import type { AssemblerOptions } from './inputAssembler.js';
import { cameraInputs, type CameraInput, type PlannerParams } from './params.js';

/**
 * The planner's start-up decisions, pure: which camera inputs it subscribes, how its input assembler is configured
 * and how many shared-memory slots each camera needs.
 */

/** The camera inputs, in model order; a one-line UserError when cameras.names is not the bundle's list in order. */
export function plannerCameras(params: PlannerParams, contract: EngineContract, nodeName: string): CameraInput[] {
  const cameras = cameraInputs(params);
  const names = cameras.map((c) => c.name);
  if (names.join(',') !== contract.cameras.join(',')) {
    throw new UserError(
      `cameras.names: expected the bundle's cameras in its order [${contract.cameras.join(', ')}] ` +
        `(bundle ${contract.bundleId}), got [${names.join(', ')}] [node=${nodeName}]`,
    );
  }
  return cameras;
}

/**
 * Shared-memory slots per camera: one per buffered frame, plus the frames of an input pending, one in flight and
 * one abandoned by a timeout while its worker still reads it, plus the frame arriving.
 */
export function frameStoreSlots(params: PlannerParams, contract: EngineContract): number {
  return params.cameras.buffer_size + 3 * contract.framesPerCamera + 1;
}

/** The input assembler's options from the parameters and the engine's contract (frame store and perfNow apart). */
export function assemblerOptions(
  params: PlannerParams,
  contract: EngineContract,
): Omit<AssemblerOptions, 'frameStore' | 'perfNow'> {
  return {
    selection: {
      cameras: [...contract.cameras],
      framesPerCamera: contract.framesPerCamera,
      spacingS: contract.frameSpacingS,
      toleranceS: params.cameras.frame_tolerance_s,
      jitterS: params.cameras.stamp_jitter_s,
    },
    history: { steps: contract.historySteps, dtS: contract.historyDtS, maxGapS: params.odometry.max_gap_s },
    cameraBufferSize: params.cameras.buffer_size,
    odometryBufferSize: params.odometry.buffer_size,
    odometryBufferS: params.odometry.buffer_s,
    odometryMaxJumpM: params.odometry.max_jump_m,
    maxSkewS: params.cameras.max_skew_s,
    timeResetThresholdS: params.time_reset_threshold_s,
    skipPeriodS: 1 / params.max_plan_rate_hz,
    seed: params.seed,
    samples: params.samples,
  };
}
