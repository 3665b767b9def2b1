/**
 * The action stage: the flow-matching expert for the K samples of one or more plans whose caches have the same
 * length, one action_expert run per Euler step for all their samples, each attending to its own cache up to its
 * <|traj_future_start|> (the attention mask and 3-axis positions upstream computes), from seeded N(0,1) noise
 * (SeededRng(seed + s, 1)); then, per plan, denormalise with the manifest constants and roll out the unicycle from v0,
 * a non-finite waypoint being EngineError('non_finite'). `flowNoise` and `trajectories` also serve the fused form.
 * No I/O; `now` is injected.
 */
import { EngineError } from '../core/planningEngine.js';
import type { PlanTrajectory } from '../core/planningEngine.js';
import { pastKey, pastValue } from '../bundle/manifest.js';
import type { Manifest } from '../bundle/manifest.js';
import { denormalizeActions } from './actionSpace.js';
import { flowMatchEuler } from './flowMatching.js';
import { reasoningTexts } from './pipelineDecode.js';
import { need } from './pipelineTypes.js';
import type { Decoded, PipelineContext, PipelineOutput } from './pipelineTypes.js';
import { expertPositions } from './prompt.js';
import { SeededRng } from './rng.js';
import { floatTensor, floatValues, int64Tensor, stackRows } from './tensors.js';
import type { Tensor } from './tensors.js';
import { rolloutUnicycle } from './unicycle.js';

/** finfo.min of the mask dtype: the additive mask value for positions a sample must not attend to. */
const MASKED = { float32: -3.4028234663852886e38, float16: -65504 } as const;

/**
 * The flow-matching expert for plans whose caches have the same length, one run per Euler step for all their
 * samples, each attending to its own cache up to its <|traj_future_start|>; then denormalise and roll out per plan.
 */
export async function expert(
  ctx: PipelineContext,
  plans: readonly Decoded[],
): Promise<Array<[number, PipelineOutput]>> {
  const { manifest: m, tokenizer: tok, runner, now } = ctx;
  const L = m.lm.layers;
  const spec = (name: string) => m.graphs.action_expert!.inputs.find((t) => t.name === name)!;
  const t = now();
  const steps = m.trajectory.steps;
  const P = plans[0]!.cache[0]!.dims[2]!; // cached positions, the same for every row here
  const R = plans.reduce((n, d) => n + d.offsets.length, 0);
  const maskSpec = spec('attention_mask');
  const maskValue = MASKED[maskSpec.dtype === 'float16' ? 'float16' : 'float32'];
  const mask = new Float32Array(R * steps * (P + steps));
  const positions: number[][] = [[], [], []];
  let row = 0;
  for (const d of plans) {
    for (const offset of d.offsets) {
      const from = Math.min(P, offset);
      for (let q = 0; q < steps; q++)
        mask.fill(maskValue, (row * steps + q) * (P + steps) + from, (row * steps + q) * (P + steps) + P);
      row++;
    }
    const pos = expertPositions(d.offsets, d.pre.ropeDelta, steps);
    const per = d.offsets.length * steps;
    for (let axis = 0; axis < 3; axis++) positions[axis]!.push(...pos.slice(axis * per, (axis + 1) * per));
  }
  const fixed: Record<string, Tensor> = {
    position_ids: int64Tensor(positions.flat(), [3, R, steps]),
    attention_mask: floatTensor(maskSpec.dtype, mask, [R, 1, steps, P + steps]),
  };
  for (let i = 0; i < L; i++) {
    fixed[pastKey(i)] = stackRows(plans.map((d) => ({ t: d.cache[2 * i]!, times: 1 })));
    fixed[pastValue(i)] = stackRows(plans.map((d) => ({ t: d.cache[2 * i + 1]!, times: 1 })));
  }
  const noise = new Float32Array(R * steps * 2);
  row = 0;
  for (const d of plans) {
    noise.set(flowNoise(d.pre.plan.seed, d.offsets.length, steps), row * steps * 2);
    row += d.offsets.length;
  }
  const tValues = new Float32Array(R);
  const xType = spec('x').dtype,
    tType = spec('t').dtype;
  const n = await flowMatchEuler(noise, m.action.flowSteps, async (x, time) => {
    tValues.fill(time);
    const r = await runner.run('action_expert', {
      ...fixed,
      x: floatTensor(xType, x, [R, steps, 2]),
      t: floatTensor(tType, tValues, [R]),
    });
    return floatValues(need(r, 'velocity', 'action_expert'));
  });
  const flowEnd = now();
  const out: Array<[number, PipelineOutput]> = [];
  row = 0;
  for (const d of plans) {
    const K = d.offsets.length;
    const rollStart = now();
    const { samples, actions } = trajectories(m, d.pre.v0, n.subarray(row * steps * 2, (row + K) * steps * 2), K);
    row += K;
    const texts = reasoningTexts(tok, d.ids);
    out.push([
      d.pre.index,
      {
        v0: d.pre.v0,
        reasoning: { text: texts[0]!, tokens: d.ids[0]!.length, generationMs: d.reasoningMs },
        samples,
        timing: { visionMs: d.pre.visionMs, reasoningMs: d.reasoningMs, actionMs: flowEnd - t + (now() - rollStart) },
        texts,
        tokenIds: d.ids,
        actions,
      },
    ]);
  }
  return out;
}

/** N(0, 1) flow noise [K, steps, 2]: sample s from SeededRng(seed + s, 1), in either form. */
export function flowNoise(seed: number, K: number, steps: number): Float32Array {
  const noise = new Float32Array(K * steps * 2);
  for (let s = 0; s < K; s++) noise.set(new SeededRng(seed + s, 1).normals(steps * 2), s * steps * 2);
  return noise;
}

/** Each of the K samples' normalised expert output [steps, 2] (from n), denormalised and rolled out from v0. */
export function trajectories(
  m: Manifest,
  v0: number,
  n: Float32Array,
  K: number,
): { samples: PlanTrajectory[]; actions: Float32Array[] } {
  const steps = m.trajectory.steps;
  // onnxruntime only logs an output whose size differs from its declared shape: a short or long actions tensor
  // would slice into the wrong sample or give a short trajectory.
  if (n.length !== K * steps * 2)
    throw new EngineError(
      'runtime',
      `actions: expected ${K * steps * 2} values (${K} samples × ${steps} steps × 2), got ${n.length}`,
    );
  const samples: PlanTrajectory[] = [];
  const actions: Float32Array[] = [];
  for (let s = 0; s < K; s++) {
    const ns = n.slice(s * steps * 2, (s + 1) * steps * 2);
    actions.push(ns);
    const { accel, curvature } = denormalizeActions(ns, m.action.normalization);
    samples.push(toTrajectory(v0, accel, curvature, m.trajectory.dtS, m.bundle.id));
  }
  return { samples, actions };
}

/** The unicycle rollout of one sample as a PlanTrajectory; EngineError('non_finite') at a non-finite value. */
function toTrajectory(
  v0: number,
  accel: Float64Array,
  curvature: Float64Array,
  dt: number,
  bundleId: string,
): PlanTrajectory {
  const r = rolloutUnicycle(v0, accel, curvature, dt);
  for (const [name, arr] of Object.entries(r) as [string, Float64Array][]) {
    const i = arr.findIndex((v) => !Number.isFinite(v));
    if (i >= 0)
      throw new EngineError(
        'non_finite',
        `trajectory ${name}[${i}] is ${arr[i]} after rollout (v0=${v0}) [bundle=${bundleId}]`,
      );
  }
  const t = Float64Array.from({ length: accel.length }, (_, k) => (k + 1) * dt);
  return { dt, t, x: r.x, y: r.y, heading: r.heading, speed: r.speed, acceleration: accel, curvature };
}
