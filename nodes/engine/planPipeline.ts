/**
 * One AR1 plan over an abstract graph runner (the onnxruntime worker supplies the real one): vision → prefill →
 * seeded token generation per sample → flow-matching Euler per sample → denormalise → unicycle rollout.
 * No I/O and no clock of its own: `now` is injected for the stage timing.
 */
import { EngineError } from '../core/engine.js';
import type { EgoHistory, PlanTiming, PlanTrajectory } from '../core/engine.js';
import { denormalizeActions } from './actionSpace.js';
import { flowMatchEuler } from './flowMatching.js';
import { historyTokens } from './historyTokens.js';
import { estimateInitialSpeed } from './initialSpeed.js';
import type { GraphRole, Manifest } from './manifest.js';
import { SeededRng } from './rng.js';
import { sampleToken } from './sampling.js';
import type { BundleTokenizer } from './tokenizer.js';
import { rolloutUnicycle } from './unicycle.js';

export type TensorData = Float32Array | Uint8Array | BigInt64Array;
export interface Tensor { data: TensorData; dims: readonly number[] }
export interface GraphRunner {
  /** Runs one graph; outputs by name. Rejects on failure. */
  run(role: GraphRole, feeds: Record<string, Tensor>): Promise<Record<string, Tensor>>;
}

export interface PipelineOutput {
  v0: number;
  reasoning: { text: string; tokens: number; generationMs: number };
  samples: PlanTrajectory[];
  /** Everything except preprocessMs / totalMs / sessionRunMs, which the caller owns. */
  timing: Pick<PlanTiming, 'visionMs' | 'reasoningMs' | 'actionMs'>;
  /** Texts of all samples (sample 0 first). */
  texts: string[];
}

export interface PipelineContext { manifest: Manifest; tokenizer: BundleTokenizer; runner: GraphRunner; now: () => number }

/** Wraps a runner so every output is checked for NaN/Inf: EngineError('non_finite') naming graph, tensor and index. */
export function checkedRunner(inner: GraphRunner, manifest: Manifest): GraphRunner {
  return {
    async run(role, feeds) {
      const out = await inner.run(role, feeds);
      for (const [name, t] of Object.entries(out)) {
        if (!(t.data instanceof Float32Array)) continue;
        for (let i = 0; i < t.data.length; i++) {
          if (!Number.isFinite(t.data[i]!)) {
            throw new EngineError('non_finite', `${manifest.graphs[role].file}: output ${name}[${i}] is ${t.data[i]} (graph ${role}) [bundle=${manifest.bundle.id}]`);
          }
        }
      }
      return out;
    },
  };
}

export async function runPipeline(ctx: PipelineContext, pixels: Tensor, history: EgoHistory, seed: number, samples: number): Promise<PipelineOutput> {
  const { manifest: m, tokenizer: tok, runner, now } = ctx;
  const v0 = estimateInitialSpeed(history, history.dt);

  let t = now();
  const { image_embeds: embeds } = await runner.run('vision_encoder', { pixel_values: pixels });
  const visionMs = now() - t;

  t = now();
  const histTok = historyTokens(history, m.history.tokenRanges, m.history.bins, m.history.tokenOffset);
  const prefill = await runner.run('lm_prefill', { image_embeds: need(embeds, 'image_embeds'), history_tokens: { data: histTok, dims: [1, histTok.length] } });
  const texts: string[] = [];
  const contexts: Tensor[] = [];
  let tokens0 = 0;
  for (let s = 0; s < samples; s++) {
    const rng = new SeededRng(seed, 2 * s);
    let logits = need(prefill.logits, 'logits');
    let state = need(prefill.present_state, 'present_state');
    const ids: number[] = [];
    for (;;) {
      let next: number;
      if (ids.length >= m.sampling.maxTokens) {
        next = ids.includes(tok.cotEnd) ? tok.trajFutureStart : tok.cotEnd; // bound reached: close the reasoning
      } else {
        next = sampleToken(logits.data as Float32Array, m.sampling, rng, tok.masked);
      }
      ids.push(next);
      const out = await runner.run('lm_decode', { input_ids: { data: BigInt64Array.of(BigInt(next)), dims: [1, 1] }, past_state: state });
      logits = need(out.logits, 'logits');
      state = need(out.present_state, 'present_state');
      // Stop one token after <|traj_future_start|>: its state conditions the action expert (AR1 §6).
      if (next === tok.trajFutureStart) break;
    }
    const end = ids.indexOf(tok.cotEnd);
    texts.push(tok.decode(end >= 0 ? ids.slice(0, end) : ids));
    if (s === 0) tokens0 = ids.length;
    contexts.push(state);
  }
  const reasoningMs = now() - t;

  t = now();
  const steps = m.trajectory.steps;
  const out: PlanTrajectory[] = [];
  for (let s = 0; s < samples; s++) {
    const noise = new SeededRng(seed, 2 * s + 1).normals(steps * 2);
    const tBuf = new Float32Array(1);
    const context = contexts[s]!;
    const n = await flowMatchEuler(noise, m.action.flowSteps, async (x, time) => {
      tBuf[0] = time;
      const r = await runner.run('action_expert', { x: { data: x, dims: [1, steps, 2] }, t: { data: tBuf, dims: [1] }, context });
      return need(r.velocity, 'velocity').data as Float32Array;
    });
    const { accel, curvature } = denormalizeActions(n, m.action.normalization);
    out.push(toTrajectory(v0, accel, curvature, m.trajectory.dtS, m.bundle.id));
  }
  const actionMs = now() - t;
  return { v0, reasoning: { text: texts[0]!, tokens: tokens0, generationMs: reasoningMs }, samples: out, timing: { visionMs, reasoningMs, actionMs }, texts };
}

function toTrajectory(v0: number, accel: Float64Array, curvature: Float64Array, dt: number, bundleId: string): PlanTrajectory {
  const r = rolloutUnicycle(v0, accel, curvature, dt);
  for (const [name, arr] of Object.entries(r) as [string, Float64Array][]) {
    const i = arr.findIndex((v) => !Number.isFinite(v));
    if (i >= 0) throw new EngineError('non_finite', `trajectory ${name}[${i}] is ${arr[i]} after rollout (v0=${v0}) [bundle=${bundleId}]`);
  }
  const t = Float64Array.from({ length: accel.length }, (_, k) => (k + 1) * dt);
  return { dt, t, x: r.x, y: r.y, heading: r.heading, speed: r.speed, acceleration: accel, curvature };
}

function need(t: Tensor | undefined, name: string): Tensor {
  if (!t) throw new EngineError('runtime', `graph output ${name} missing`);
  return t;
}
