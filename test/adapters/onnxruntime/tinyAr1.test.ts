import { expect } from 'chai';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { createSessions } from '../../../nodes/adapters/onnxruntime/ort.js';
import type { SessionSet } from '../../../nodes/adapters/onnxruntime/ort.js';
import { createOnnxEngine } from '../../../nodes/adapters/onnxruntime/index.js';
import type { EgoHistory, EngineError, PlanResult } from '../../../nodes/core/planningEngine.js';
import { silentLogger } from '../../../nodes/core/logger.js';
import { checkedRunner, runPipeline, runPipelineBatch } from '../../../nodes/ar1/planPipeline.js';
import type { GraphRunner, PipelineOutput } from '../../../nodes/ar1/planPipeline.js';
import { floatValues } from '../../../nodes/ar1/tensors.js';
import type { Tensor } from '../../../nodes/ar1/tensors.js';
import { makeTinyAr1Bundle } from '../../../nodes/syntheticBundles/tinyAr1Bundle.js';
import { TINY } from '../../../nodes/syntheticBundles/tinyTransformer.js';
import { loadTokenizer } from '../../../nodes/ar1/tokenizer.js';
import type { BundleTokenizer } from '../../../nodes/ar1/tokenizer.js';
import { verifyBundle } from '../../../nodes/bundle/verifyBundle.js';
import type { VerifiedBundle } from '../../../nodes/bundle/verifyBundle.js';
import { refused } from '../../bundle/bundleFixtures.js';
import { curvedHistory } from '../../ar1/egoHistoryFixture.js';

const N = 16,
  H = TINY.model.height,
  W = TINY.model.width;

function pixels(seed: number): Tensor {
  const data = new Uint8Array(N * H * W * 3);
  let s = (seed * 2654435761) >>> 0;
  for (let i = 0; i < data.length; i++) {
    s = (s * 1664525 + 1013904223) >>> 0;
    data[i] = s >>> 24;
  }
  return { type: 'uint8', data, dims: [N, H, W, 3] };
}
const history = (v: number, curve = 0) => curvedHistory(v, curve, 0.03);
const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i]! - b[i]!));
  return d;
};

/** Four rgb8 frames per camera at the native size, t0 = 10 s, oldest first; pixel(c, k, i) fills byte i. */
function nativeFrames(cameras: readonly string[], pixel: (c: number, k: number, i: number) => number) {
  const { height, width } = TINY.native;
  return cameras.map((camera, c) =>
    [0, 1, 2, 3].map((k) => ({
      camera,
      stampS: 10 + (k - 3) * 0.1,
      encoding: 'rgb8' as const,
      width,
      height,
      step: width * 3,
      data: new Uint8Array(width * height * 3).map((_, i) => pixel(c, k, i)),
    })),
  );
}

/** Plans through the worker engine: planBatch against plan() one by one, every float compared by its bytes. */
async function engineBatchMatchesAlone(bundleDir: string, plans = 4): Promise<void> {
  const engine = await createOnnxEngine({ bundleDir });
  try {
    const input = (level: number, v: number, seed: number, samples: number) => ({
      t0S: 10,
      frames: nativeFrames(engine.contract.cameras, (c, k, i) => (level + 13 * c + 29 * k + i) & 0xff),
      history: history(v, 0.001 * seed),
      seed,
      samples,
    });
    const inputs = [input(10, 12, 1, 1), input(90, 5, 2, 3), input(170, 20, 3, 2), input(40, 9, 4, 1)];
    for (let i = 4; i < plans; i++) inputs.push(input(23 * i, 4 + i, 5 + i, 1 + (i % 2)));
    const alone: PlanResult[] = [];
    for (const i of inputs) alone.push(await engine.plan(i));
    const batch = await Promise.all(engine.planBatch(inputs));
    const bits = (r: PlanResult) =>
      JSON.stringify([
        r.reasoning.text,
        r.v0,
        r.samples.map((t) =>
          [t.x, t.y, t.heading, t.speed, t.acceleration, t.curvature].map((a) =>
            Buffer.from(a.buffer).toString('base64'),
          ),
        ),
      ]);
    batch.forEach((r, i) => expect(bits(r), `plan ${i}`).to.equal(bits(alone[i]!)));
    // The preprocessed frames of up to 8 plans (max_batch) go to one vision run: one vision time for them. Beyond 8,
    // the next run writes its plans into the same rows of the worker's pixel buffer.
    const runs = [];
    for (let at = 0; at < plans; at += 8)
      runs.push(new Set(batch.slice(at, at + 8).map((r) => r.timing.visionMs)).size);
    expect(runs, 'one vision run per 8 plans').to.deep.equal(runs.map(() => 1));
    expect(new Set(batch.map((r) => r.timing.visionMs)).size).to.equal(runs.length);
    expect(new Set(alone.map((r) => r.timing.visionMs)).size, 'alone: a vision run each').to.equal(plans);
  } finally {
    await engine.close();
  }
}

describe('tiny AR1 bundle (real topology at tiny sizes, split form, fp16 cache and weights)', function () {
  this.timeout(120000);
  let base: string;
  let v: VerifiedBundle;
  let sessions: SessionSet;
  let tok: BundleTokenizer;
  const calls: { role: string; feeds: Record<string, Tensor>; out: Record<string, Tensor> }[] = [];
  const recording: GraphRunner = {
    async run(role, feeds) {
      const out = await sessions.runner.run(role, feeds);
      calls.push({ role, feeds, out });
      return out;
    },
  };
  const plan = (
    px: Tensor,
    h: EgoHistory,
    seed: number,
    samples: number,
    runner: GraphRunner = recording,
  ): Promise<PipelineOutput> =>
    runPipeline(
      { manifest: v.manifest, tokenizer: tok, runner: checkedRunner(runner, v.manifest), now: () => 0 },
      px,
      h,
      seed,
      samples,
    );

  before(async () => {
    base = mkdtempSync(join(tmpdir(), 'ar1-tiny-'));
    makeTinyAr1Bundle(join(base, 'tiny'));
    v = await verifyBundle(join(base, 'tiny'));
    sessions = await createSessions(v.graphPaths, ['cpu'], silentLogger);
    tok = loadTokenizer(v.tokenizerJson, v.manifest);
  });
  after(async () => {
    await sessions?.release();
    rmSync(base, { recursive: true, force: true });
  });
  beforeEach(() => {
    calls.length = 0;
  });

  it('is generated deterministically, weights fp16 in external data, per-layer fp16 cache declared from the manifest', () => {
    makeTinyAr1Bundle(join(base, 'again'));
    for (const f of Object.keys(v.manifest.files))
      expect(readFileSync(join(base, 'again', f)).equals(readFileSync(join(base, 'tiny', f))), f).to.equal(true);
    expect(Object.keys(v.manifest.files)).to.include.members([
      'lm_prefill.onnx.data',
      'lm_decode.onnx.data',
      'action_expert.onnx.data',
      'vision_encoder.onnx.data',
    ]);
    expect(v.manifest.lm).to.deep.equal({ layers: 2, kvHeads: 2, headDim: 8, cacheDtype: 'float16' });
    const dec = v.manifest.graphs.lm_decode!;
    expect(dec.inputs.map((t) => t.name)).to.deep.equal([
      'input_ids',
      'position_ids',
      'past_key_values.0.key',
      'past_key_values.0.value',
      'past_key_values.1.key',
      'past_key_values.1.value',
    ]);
    expect(dec.outputs.map((t) => t.name)).to.deep.equal([
      'logits',
      'present.0.key',
      'present.0.value',
      'present.1.key',
      'present.1.value',
    ]);
    expect(v.manifest.graphs.vision_encoder!.outputs.map((t) => t.name)).to.deep.equal([
      'image_embeds',
      'deepstack_embeds.0',
      'deepstack_embeds.1',
    ]);
  });

  it('runs vision → prefill → decode steps with a growing per-layer fp16 cache → expert attending to it', async () => {
    const out = await plan(pixels(1), history(12), 5, 1);
    const prefill = calls.find((c) => c.role === 'lm_prefill')!;
    const S = prefill.feeds.input_ids!.dims[1]!;
    const text = v.manifest.prompt.template.reduce((n, p) => n + ('text' in p ? tok.encode(p.text).length : 0), 0);
    expect(S).to.equal(text + 16 * (1 + 8 + 1) + 48); // template text + 16 images (start, 2×4 pads, end) + 48 history tokens
    for (const i of [0, 1]) {
      expect(prefill.out[`present.${i}.key`]!.type).to.equal('float16');
      expect(prefill.out[`present.${i}.key`]!.dims).to.deep.equal([1, 2, S, 8]);
    }
    const decodes = calls.filter((c) => c.role === 'lm_decode');
    decodes.forEach((c, k) => expect(c.out['present.1.value']!.dims, `step ${k}`).to.deep.equal([1, 2, S + k + 1, 8]));
    const experts = calls.filter((c) => c.role === 'action_expert');
    expect(experts).to.have.length(10);
    expect(experts[0]!.feeds['past_key_values.0.key']!.dims[2]).to.equal(S + decodes.length);
    expect(out.samples[0]!.x).to.have.length(64);
    expect(out.samples[0]!.x.every(Number.isFinite)).to.equal(true);
  });

  it('K samples in one batch equal K single runs with the same seeds (sample s of seed n = sample 0 of seed n + s)', async () => {
    const px = pixels(2),
      h = history(15, 0.002);
    const batch = await plan(px, h, 40, 4);
    expect(calls.filter((c) => c.role === 'action_expert').every((c) => c.feeds.x!.dims[0] === 4)).to.equal(true);
    expect(calls.filter((c) => c.role === 'lm_decode').every((c) => c.feeds.input_ids!.dims[0] === 4)).to.equal(true);
    for (let s = 0; s < 4; s++) {
      const single = await plan(px, h, 40 + s, 1);
      expect(batch.tokenIds[s], `sample ${s} tokens`).to.deep.equal(single.tokenIds[0]);
      expect(maxDiff(batch.actions[s]!, single.actions[0]!), `sample ${s} actions`).to.be.lessThan(2e-3);
      expect(batch.texts[s]).to.equal(single.texts[0]);
    }
    expect(batch.tokenIds[0]).not.to.deep.equal(batch.tokenIds[1]);
  });

  it('plans batched together (one vision and one prefill run, one decode run per token for all of them) are bit-identical to each plan alone', async () => {
    const plans = [
      { px: pixels(11), h: history(12), seed: 3, samples: 1 },
      { px: pixels(12), h: history(15, 0.002), seed: 40, samples: 3 },
      { px: pixels(13), h: history(4), seed: 101, samples: 1 },
      { px: pixels(14), h: history(9, -0.003), seed: 7, samples: 2 },
    ];
    const alone = [];
    const aloneDecodes: number[] = [];
    for (const p of plans) {
      calls.length = 0;
      alone.push(await plan(p.px, p.h, p.seed, p.samples));
      aloneDecodes.push(calls.filter((c) => c.role === 'lm_decode').length);
    }
    calls.length = 0;
    const batch = await runPipelineBatch(
      { manifest: v.manifest, tokenizer: tok, runner: checkedRunner(recording, v.manifest), now: () => 0 },
      plans.map((p) => ({ pixels: () => p.px, history: p.h, seed: p.seed, samples: p.samples })),
    );
    const decodes = calls.filter((c) => c.role === 'lm_decode');
    expect(decodes[0]!.feeds.input_ids!.dims[0], 'the first decode run carries every sample of every plan').to.equal(7);
    const visions = calls.filter((c) => c.role === 'vision_encoder');
    const prefills = calls.filter((c) => c.role === 'lm_prefill');
    expect(
      visions.map((c) => c.feeds.pixel_values!.dims[0]),
      'one vision run: the 4 plans × 16 images',
    ).to.deep.equal([64]);
    expect(
      prefills.map((c) => c.feeds.input_ids!.dims[0]),
      'one prefill run: the 4 prompts',
    ).to.deep.equal([4]);
    expect(decodes.length, 'lockstep: as many decode runs as the longest plan alone').to.equal(
      Math.max(...aloneDecodes),
    );
    const expertRows = calls.filter((c) => c.role === 'action_expert').map((c) => c.feeds.x!.dims[0]!);
    expect(Math.max(...expertRows), 'plans whose caches have the same length share the expert runs').to.be.greaterThan(
      3,
    );
    const lengths = new Set(alone.map((a) => Math.max(...a.tokenIds.map((t) => t.length))));
    expect(lengths.size, 'the plans stop at different steps (some leave the batch early)').to.be.greaterThan(1);
    for (const [i, r] of batch.entries()) {
      if (r.status !== 'fulfilled') throw r.reason;
      const a = alone[i]!;
      expect(r.value.tokenIds, `plan ${i} tokens`).to.deep.equal(a.tokenIds);
      expect(r.value.texts, `plan ${i} texts`).to.deep.equal(a.texts);
      expect(r.value.v0).to.equal(a.v0);
      r.value.actions.forEach((x, s) =>
        expect(
          Buffer.from(x.buffer, x.byteOffset, x.byteLength).equals(
            Buffer.from(a.actions[s]!.buffer, a.actions[s]!.byteOffset, a.actions[s]!.byteLength),
          ),
          `plan ${i} sample ${s} actions bit-identical`,
        ).to.equal(true),
      );
      r.value.samples.forEach((t, s) => {
        for (const k of ['x', 'y', 'heading', 'speed', 'acceleration', 'curvature'] as const)
          expect(Array.from(t[k]), `plan ${i} sample ${s} ${k}`).to.deep.equal(Array.from(a.samples[s]![k]));
      });
    }
  });

  it('a plan that fails in a batch fails alone; a batch that throws is rerun plan by plan with the same results', async () => {
    const plans = [0, 1, 2].map((i) => ({ px: pixels(20 + i), h: history(8 + 3 * i), seed: 50 + i, samples: 1 }));
    const alone = [];
    for (const p of plans) alone.push(await plan(p.px, p.h, p.seed, p.samples));
    // Decode runs of more than one row return NaN logits: only a batch fails.
    const poisoned: GraphRunner = {
      async run(role, feeds) {
        const out = await sessions.runner.run(role, feeds);
        if (role === 'lm_decode' && feeds.input_ids!.dims[0]! > 1) floatValues(out.logits!)[5] = NaN;
        return out;
      },
    };
    const batch = await runPipelineBatch(
      { manifest: v.manifest, tokenizer: tok, runner: checkedRunner(poisoned, v.manifest), now: () => 0 },
      plans.map((p, i) => ({
        pixels: () => {
          if (i === 1) throw new Error('frame 3 could not be decoded');
          return p.px;
        },
        history: p.h,
        seed: p.seed,
        samples: p.samples,
      })),
    );
    expect(batch[1]!.status).to.equal('rejected');
    expect(String((batch[1] as PromiseRejectedResult).reason)).to.match(/frame 3 could not be decoded/);
    for (const i of [0, 2]) {
      const r = batch[i]!;
      if (r.status !== 'fulfilled') throw r.reason;
      expect(r.value.tokenIds).to.deep.equal(alone[i]!.tokenIds);
      expect(Array.from(r.value.actions[0]!)).to.deep.equal(Array.from(alone[i]!.actions[0]!));
    }
  });

  it('outputs depend on the pixels and on the history', async () => {
    const a = await plan(pixels(3), history(10), 9, 1);
    const b = await plan(pixels(4), history(10), 9, 1);
    const c = await plan(pixels(3), history(20, 0.003), 9, 1);
    expect(maxDiff(a.actions[0]!, b.actions[0]!)).to.be.greaterThan(1e-3);
    expect(maxDiff(a.actions[0]!, c.actions[0]!)).to.be.greaterThan(1e-3);
  });

  it('masks the trajectory tokens while reasoning, even when they have the highest logits', async () => {
    const first = tok.idOf('<i0>');
    const boosted: GraphRunner = {
      async run(role, feeds) {
        const out = await sessions.runner.run(role, feeds);
        if (role === 'lm_prefill' || role === 'lm_decode') {
          const l = floatValues(out.logits!);
          const V = out.logits!.dims[1]!;
          for (let r = 0; r < l.length / V; r++) for (let i = 0; i < 4000; i += 37) l[r * V + first + i] = 50;
        }
        return out;
      },
    };
    const out = await plan(pixels(5), history(8), 11, 3, boosted);
    for (const ids of out.tokenIds)
      for (const id of ids) expect(id < first || id >= first + 4000, `token ${id}`).to.equal(true);
    expect(tok.masked.size).to.equal(4000);
  });

  it('stops a sample one token after <|traj_future_start|> (its cache entry conditions the expert); at the bound, as upstream', async () => {
    const stopAt = 3; // sample 1 is forced to say <|traj_future_start|> as its 4th token; sample 0 runs to the bound
    let step = -1;
    const forcing: GraphRunner = {
      async run(role, feeds) {
        const out = await recording.run(role, feeds);
        if (role === 'lm_prefill' || role === 'lm_decode') {
          step++;
          const l = floatValues(out.logits!);
          const V = out.logits!.dims[1]!;
          for (let r = 0; r < l.length / V; r++) l[r * V + tok.trajFutureStart] = -100;
          if (step === stopAt) l[V + tok.trajFutureStart] = 100; // decode calls carry both samples' rows
        }
        return out;
      },
    };
    const out = await plan(pixels(6), history(12), 21, 2, forcing);
    const maxTokens = v.manifest.sampling.maxTokens;
    expect(out.tokenIds[1]).to.have.length(stopAt + 1);
    expect(out.tokenIds[1]!.at(-1)).to.equal(tok.trajFutureStart);
    expect(out.tokenIds[0]).to.have.length(maxTokens); // the bound: max_tokens generated, no forced tokens
    expect(out.tokenIds[0]).not.to.include(tok.trajFutureStart);
    const prefill = calls.find((c) => c.role === 'lm_prefill')!;
    const S = prefill.feeds.input_ids!.dims[1]!;
    const expert = calls.find((c) => c.role === 'action_expert')!;
    const P = expert.feeds['past_key_values.0.key']!.dims[2]!;
    expect(P).to.equal(S + maxTokens - 1); // the bound's last token never enters the cache
    const mask = floatValues(expert.feeds.attention_mask!);
    const row = (s: number, q: number) => mask.subarray((s * 64 + q) * (P + 64), (s * 64 + q + 1) * (P + 64));
    // Sample 0 (bound): attends to everything. Sample 1: to the prompt and its tokens through <|traj_future_start|>.
    expect(row(0, 0).every((x) => x === 0)).to.equal(true);
    const r1 = row(1, 63);
    expect(Array.from(r1.subarray(0, S + stopAt + 1)).every((x) => x === 0)).to.equal(true);
    expect(Array.from(r1.subarray(S + stopAt + 1, P)).every((x) => x < -1e38)).to.equal(true);
    expect(Array.from(r1.subarray(P)).every((x) => x === 0)).to.equal(true);
    // Positions: the first action token one after the stop (or after the bound's last token), on all three axes.
    const pos = expert.feeds.position_ids!.data as BigInt64Array;
    const delta = Number((prefill.feeds.position_ids!.data as BigInt64Array)[S - 1]!) + 1 - S;
    for (let axis = 0; axis < 3; axis++) {
      expect(Number(pos[(axis * 2 + 0) * 64])).to.equal(S + maxTokens + delta);
      expect(Number(pos[(axis * 2 + 1) * 64])).to.equal(S + stopAt + 1 + delta);
      expect(Number(pos[(axis * 2 + 1) * 64 + 63])).to.equal(S + stopAt + 1 + delta + 63);
    }
  });

  it('plans through the worker engine from camera frames at the native size', async () => {
    const engine = await createOnnxEngine({ bundleDir: join(base, 'tiny') });
    try {
      const frames = nativeFrames(engine.contract.cameras, (_c, k) => 40 + k * 30);
      const r = await engine.plan({ t0S: 10, frames, history: history(10), seed: 1, samples: 2 });
      expect(r.samples).to.have.length(2);
      expect(r.bundleId).to.equal('ar1-tiny@1.0.0');
      expect(r.trajectory.x.every(Number.isFinite)).to.equal(true);
    } finally {
      await engine.close();
    }
  });

  it('plans batched through the worker engine (planBatch) are bit-identical to plan() one by one', async () => {
    await engineBatchMatchesAlone(join(base, 'tiny'));
  });

  it('11 plans through the worker engine (more than max_batch 8: two vision runs over the same pixel rows), bit-identical too', async () => {
    await engineBatchMatchesAlone(join(base, 'tiny'), 11);
  });

  describe('fused form (reasoning and flow loops inside one graph, cache loop-carried)', () => {
    let fv: VerifiedBundle;
    let fs: SessionSet;
    let ftok: BundleTokenizer;
    const fcalls: { role: string; feeds: Record<string, Tensor>; out: Record<string, Tensor> }[] = [];
    /** Changes what `generate` returns (a graph whose outputs break their declared shapes). */
    let tamper: ((out: Record<string, Tensor>) => Record<string, Tensor>) | undefined;
    before(async () => {
      makeTinyAr1Bundle(join(base, 'fused'), { form: 'fused' });
      fv = await verifyBundle(join(base, 'fused'));
      fs = await createSessions(fv.graphPaths, ['cpu'], silentLogger);
      ftok = loadTokenizer(fv.tokenizerJson, fv.manifest);
    });
    after(async () => {
      await fs?.release();
    });
    const fplan = (px: Tensor, h: EgoHistory, seed: number, samples: number) =>
      runPipeline(
        {
          manifest: fv.manifest,
          tokenizer: ftok,
          now: () => 0,
          runner: checkedRunner(
            {
              async run(role, feeds) {
                const got = await fs.runner.run(role, feeds);
                const out = role === 'generate' && tamper ? tamper(got) : got;
                fcalls.push({ role, feeds, out });
                return out;
              },
            },
            fv.manifest,
          ),
        },
        px,
        h,
        seed,
        samples,
      );

    it('declares vision_encoder + generate; only tokens, counts and actions come out', () => {
      expect(fv.manifest.form).to.equal('fused');
      expect(Object.keys(fv.manifest.graphs)).to.deep.equal(['vision_encoder', 'generate']);
      expect(fv.manifest.graphs.generate!.outputs.map((t) => t.name)).to.deep.equal([
        'tokens',
        'token_counts',
        'actions',
      ]);
    });

    it('gives the same tokens and trajectories as the split form for the same seeds, within fp16 tolerance', async () => {
      let stopped = 0;
      for (const [seed, px, h] of [
        [3, pixels(7), history(9)],
        [17, pixels(8), history(14, 0.002)],
        [101, pixels(9), history(4)],
      ] as const) {
        const a = await plan(px, h, seed, 3);
        fcalls.length = 0;
        const b = await fplan(px, h, seed, 3);
        expect(fcalls.map((c) => c.role)).to.deep.equal(['vision_encoder', 'generate']);
        for (let s = 0; s < 3; s++) {
          expect(b.tokenIds[s], `seed ${seed} sample ${s}`).to.deep.equal(a.tokenIds[s]);
          expect(maxDiff(a.actions[s]!, b.actions[s]!), `seed ${seed} sample ${s}`).to.be.lessThan(2e-3);
          expect(maxDiff(a.samples[s]!.x, b.samples[s]!.x)).to.be.lessThan(0.05);
          if (a.tokenIds[s]!.at(-1) === tok.trajFutureStart) stopped++;
        }
      }
      expect(stopped, 'some samples stop at <|traj_future_start|>, others at the bound').to.be.greaterThan(0);
      expect(stopped).to.be.lessThan(9);
    });

    it('refuses generate outputs that break their shapes: actions of too few steps, token counts past the tokens', async () => {
      const refusal = async (change: (out: Record<string, Tensor>) => Record<string, Tensor>) => {
        tamper = change;
        try {
          await fplan(pixels(7), history(9), 3, 2);
        } catch (e) {
          return e as EngineError;
        } finally {
          tamper = undefined;
        }
        throw new Error('expected a refusal');
      };
      const steps = fv.manifest.trajectory.steps;
      const half = await refusal((out) => {
        const a = out['actions']!;
        return { ...out, actions: { ...a, data: (a.data as Float32Array).slice(0, a.data.length / 2) } };
      });
      expect(half.kind).to.equal('runtime');
      expect(half.message).to.equal(
        `actions: expected ${2 * steps * 2} values (2 samples × ${steps} steps × 2), got ${steps * 2}`,
      );
      await fplan(pixels(7), history(9), 3, 2);
      const T = fcalls.at(-1)!.out['tokens']!.dims[1]!; // the tokens' width of an untouched run
      const over = await refusal((out) => {
        const c = out['token_counts']!;
        return { ...out, token_counts: { ...c, data: BigInt64Array.of(BigInt(T + 5), 1n) } };
      });
      expect(over.kind).to.equal('runtime');
      expect(over.message).to.equal(`generate: token_counts[0]: expected 0 … ${T} (the tokens' width), got ${T + 5}`);
      const few = await refusal((out) => ({
        ...out,
        token_counts: { ...out['token_counts']!, data: BigInt64Array.of(1n), dims: [1] },
      }));
      expect(few.message).to.equal('generate: token_counts: expected 2 counts, got 1');
    });

    it('plans through the worker engine', async () => {
      const engine = await createOnnxEngine({ bundleDir: join(base, 'fused') });
      try {
        const frames = nativeFrames(engine.contract.cameras, (_c, k) => 40 + k * 30);
        const r = await engine.plan({ t0S: 10, frames, history: history(10), seed: 1, samples: 6 });
        expect(r.samples).to.have.length(6);
        expect(r.bundleId).to.equal('ar1-tiny-fused@1.0.0');
      } finally {
        await engine.close();
      }
    });

    it('planBatch on a fused bundle: one vision run, generate plan by plan, in one worker pass; results as plan() alone', async () => {
      await engineBatchMatchesAlone(join(base, 'fused'));
    });

    it('refuses a fused manifest with greedy sampling, with split-form graphs, or with a batched generate', async () => {
      const work = mkdtempSync(join(base, 'fcase-'));
      cpSync(join(base, 'fused'), work, { recursive: true });
      const p = join(work, 'manifest.yaml');
      const m = parse(readFileSync(p, 'utf8'));
      m.sampling.temperature = 0;
      writeFileSync(p, stringify(m));
      await refused(verifyBundle(work), /sampling\.temperature: expected a value > 0 for form fused/);
      m.sampling.temperature = 0.6;
      m.graphs.lm_decode = m.graphs.generate;
      writeFileSync(p, stringify(m));
      await refused(verifyBundle(work), /graphs\.lm_decode: expected one of vision_encoder, generate \(form fused\)/);
      delete m.graphs.lm_decode;
      m.graphs.generate.max_batch = 2;
      writeFileSync(p, stringify(m));
      await refused(
        verifyBundle(work),
        /graphs\.generate\.max_batch: expected 1 \(only vision_encoder batches plans in form fused; generate takes one prompt\), got 2/,
      );
    });
  });

  describe('refusals', () => {
    let work: string;
    beforeEach(() => {
      work = mkdtempSync(join(base, 'case-'));
      cpSync(join(base, 'tiny'), work, { recursive: true });
    });
    // A parsed YAML document, edited by path in each case.
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const editManifest = (f: (m: Record<string, any>) => void) => {
      const p = join(work, 'manifest.yaml');
      const m = parse(readFileSync(p, 'utf8'));
      f(m);
      writeFileSync(p, stringify(m));
    };

    it("a manifest whose layer count disagrees with the graphs' cache tensors", async () => {
      editManifest((m) => {
        m.lm.layers = 3;
      });
      await refused(verifyBundle(work), /graphs\.lm_prefill\.outputs: expected a tensor named "present\.2\.key"/);
    });
    it('a cache tensor of another dtype than lm.cache_dtype, or another head size', async () => {
      editManifest((m) => {
        m.lm.cache_dtype = 'float32';
      });
      await refused(
        verifyBundle(work),
        /graphs\.lm_prefill present\.0\.key\.dtype: expected lm\.cache_dtype float32, got float16/,
      );
      editManifest((m) => {
        m.lm.cache_dtype = 'float16';
        m.lm.head_dim = 16;
      });
      await refused(verifyBundle(work), /present\.0\.key\.shape: expected \[batch, 2, positions, 16\]/);
    });
    it('a graph whose real cache dtype differs from the manifest', async () => {
      editManifest((m) => {
        m.lm.cache_dtype = 'float32';
        for (const g of Object.values(m.graphs) as {
          inputs: { name: string; dtype: string }[];
          outputs: { name: string; dtype: string }[];
        }[]) {
          for (const t of [...g.inputs, ...g.outputs])
            if (/^(past_key_values|present)\./.test(t.name)) t.dtype = 'float32';
        }
      });
      await refused(
        verifyBundle(work),
        /lm_prefill\.onnx: output present\.0\.key: expected dtype float32, got float16/,
      );
    });
    it('a missing deepstack output', async () => {
      editManifest((m) => {
        m.vision.deepstack = 3;
      });
      await refused(
        verifyBundle(work),
        /graphs\.vision_encoder\.outputs: expected a tensor named "deepstack_embeds\.2"/,
      );
    });
    it('trajectory tokens beyond the vocabulary', async () => {
      editManifest((m) => {
        m.tokenizer.trajectory_tokens.count = 5000;
      });
      const w = await verifyBundle(work);
      expect(() => loadTokenizer(w.tokenizerJson, w.manifest)).to.throw(
        /trajectory_tokens: expected 5000 ids from <i0>/,
      );
    });
  });
});
