/**
 * The plan pipeline's shared types, below every stage module so that no import cycle forms (dpdm forbids any, type-only
 * ones included): the graph runner the pipeline runs over, the context and plans it is given, what it returns, the
 * records one plan passes from stage to stage (Seen → Prompted → Prefilled → Decoded), and `need`, the check every
 * stage applies to a graph's outputs. No I/O.
 */
import { EngineError } from '../core/planningEngine.js';
import type { EgoHistory, PlanTiming, PlanTrajectory } from '../core/planningEngine.js';
import type { GraphRole, Manifest } from '../bundle/manifest.js';
import type { Prompt } from './prompt.js';
import type { Tensor } from './tensors.js';
import type { BundleTokenizer } from './tokenizer.js';

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
  /** Generated token ids of every sample (up to and including <|traj_future_start|>, or to the bound). */
  tokenIds: number[][];
  /** Normalised expert output of every sample, [steps, 2] each, before denormalisation. */
  actions: Float32Array[];
}

export interface PipelineContext {
  manifest: Manifest;
  tokenizer: BundleTokenizer;
  runner: GraphRunner;
  now: () => number;
}

/** One plan of a batch. */
export interface PipelinePlan {
  /**
   * The plan's frames as pixel_values [frames, H, W, 3], asked for right before the vision run that carries the plan;
   * `row` is its place in that run (0 when vision runs plan by plan). A caller that reuses one buffer writes row r's
   * frames at r·frames images into it and returns that view: the rows of one run, laid out so, are fed as one tensor
   * without a copy (joinRows); tensors anywhere else are concatenated.
   */
  pixels: (row: number) => Tensor | Promise<Tensor>;
  history: EgoHistory;
  seed: number;
  samples: number;
}

/** A plan after its vision run: its image embeddings (the run's outputs, or views of its rows) and the run's time. */
export interface Seen {
  index: number;
  plan: PipelinePlan;
  v0: number;
  /** image_embeds and deepstack_embeds.{j} of this plan. */
  embeds: Record<string, Tensor>;
  visionMs: number;
}

/** A plan with its prompt, before prefill. */
export interface Prompted extends Seen {
  prompt: Prompt;
  S: number;
  /** When the plan's reasoning stage began (prompt, prefill). */
  reasoningStart: number;
}

/** A split-form plan after prefill: its batch-1 prompt cache and first logits. */
export interface Prefilled {
  index: number;
  plan: PipelinePlan;
  v0: number;
  S: number;
  ropeDelta: number;
  /** present.{i}.key, present.{i}.value of the prefill, [1, kv_heads, S, head_dim] each. */
  prompt: Tensor[];
  logits: Float32Array;
  visionMs: number;
  reasoningStart: number;
}

/** A plan whose samples all stopped: its own cache (K rows, its own positions) and where each sample stopped. */
export interface Decoded {
  pre: Prefilled;
  ids: number[][];
  offsets: number[];
  cache: Tensor[];
  reasoningMs: number;
}

/** Records that plan `index` of the batch failed with `reason`; the other plans go on. */
export type Reject = (index: number, reason: unknown) => void;

/** The graph output `name`, or EngineError('runtime') naming the graph when it is missing. */
export function need(out: Record<string, Tensor>, name: string, role: GraphRole): Tensor {
  const t = out[name];
  if (!t) throw new EngineError('runtime', `${role}: graph output ${name} missing`);
  return t;
}
