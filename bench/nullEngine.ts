import type {
  EngineContract,
  PlanInput,
  PlanningEngine,
  PlanResult,
  PlanTrajectory,
} from '../nodes/core/planningEngine.js';
import { AR1_CAMERAS } from '../nodes/syntheticBundles/demoBundle.js';

/**
 * A null engine: no model, no worker. Resolves at once with a fixed, valid 64-step plan (constant speed 10 m/s,
 * no acceleration, slight curvature). Used where the benchmark measures the nodes, not inference.
 */
export class NullEngine implements PlanningEngine {
  readonly provider = 'null';
  readonly contract: EngineContract;
  plans = 0;
  constructor(imageHeight: number, imageWidth: number) {
    this.contract = {
      bundleId: 'null@1',
      cameras: [...AR1_CAMERAS],
      framesPerCamera: 4,
      frameSpacingS: 0.1,
      imageWidth,
      imageHeight,
      historySteps: 16,
      historyDtS: 0.1,
      trajectorySteps: 64,
      trajectoryDtS: 0.1,
    };
  }
  plan(input: PlanInput): Promise<PlanResult> {
    this.plans++;
    const n = 64,
      dt = 0.1,
      v0 = 10;
    const tr: PlanTrajectory = {
      dt,
      t: new Float64Array(n),
      x: new Float64Array(n),
      y: new Float64Array(n),
      heading: new Float64Array(n),
      speed: new Float64Array(n).fill(v0),
      acceleration: new Float64Array(n),
      curvature: new Float64Array(n).fill(0.001),
    };
    for (let k = 0; k < n; k++) {
      tr.t[k] = (k + 1) * dt;
      tr.x[k] = v0 * tr.t[k]!;
    }
    return Promise.resolve({
      t0S: input.t0S,
      v0,
      reasoning: { text: 'null engine', tokens: 0, generationMs: 0 },
      trajectory: tr,
      samples: [tr],
      timing: { preprocessMs: 0, visionMs: 0, reasoningMs: 0, actionMs: 0, totalMs: 0, sessionRunMs: 0 },
      provider: this.provider,
      bundleId: this.contract.bundleId,
    });
  }
  async close(): Promise<void> {}
}
