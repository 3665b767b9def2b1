import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSessions } from '../../nodes/adapters/onnxruntime/ort.js';
import type { SessionSet } from '../../nodes/adapters/onnxruntime/ort.js';
import { silentLogger } from '../../nodes/core/logger.js';
import type { EgoHistory } from '../../nodes/core/planningEngine.js';
import { checkedRunner, runPipeline, runPipelineBatch } from '../../nodes/ar1/planPipeline.js';
import type { GraphRunner, PipelineContext, PipelineOutput, PipelinePlan } from '../../nodes/ar1/planPipeline.js';
import { floatValues } from '../../nodes/ar1/tensors.js';
import type { Tensor } from '../../nodes/ar1/tensors.js';
import { loadTokenizer } from '../../nodes/ar1/tokenizer.js';
import type { BundleTokenizer } from '../../nodes/ar1/tokenizer.js';
import type { GraphRole, Manifest } from '../../nodes/bundle/manifest.js';
import { verifyBundle } from '../../nodes/bundle/verifyBundle.js';
import { makeDemoBundle } from '../../nodes/syntheticBundles/demoBundle.js';
import { makeTinyAr1Bundle } from '../../nodes/syntheticBundles/tinyAr1Bundle.js';
import { curvedHistory } from './egoHistoryFixture.js';

/** A plan's inputs: its own pixels, history, seed and sample count. */
interface Case {
  px: Tensor;
  h: EgoHistory;
  seed: number;
  samples: number;
}

const history = curvedHistory;

function pixels(m: Manifest, seed: number): Tensor {
  const { height: H, width: W } = m.image.model;
  const N = m.cameras.names.length * m.cameras.framesPerCamera;
  const data = new Uint8Array(N * H * W * 3);
  let s = (seed * 2654435761) >>> 0;
  // Smooth bands with noise: the demo reads brightness and its left–right balance, the tiny bundle anything.
  for (let i = 0; i < data.length; i++) {
    s = (s * 1664525 + 1013904223) >>> 0;
    const x = Math.floor(i / 3) % W;
    data[i] = (((x < W / 2 ? 90 + 3 * seed : 130 - 2 * seed) & 0xff) + (s >>> 28)) & 0xff;
  }
  return { type: 'uint8', data, dims: [N, H, W, 3] };
}

const cases = (m: Manifest, n: number, base = 0): Case[] =>
  Array.from({ length: n }, (_, i) => ({
    px: pixels(m, base + i + 1),
    h: history(4 + 3 * i + base, (i % 3) * 0.001 - 0.001),
    seed: 11 * (base + i) + 3,
    samples: 1 + ((base + i) % 3),
  }));

const bytes = (a: Float32Array | Float64Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');
/** Everything a plan gives but its timing, floats as their bytes. */
function bits(o: PipelineOutput) {
  return {
    v0: o.v0,
    texts: o.texts,
    tokenIds: o.tokenIds,
    actions: o.actions.map(bytes),
    samples: o.samples.map((t) =>
      (['x', 'y', 'heading', 'speed', 'acceleration', 'curvature'] as const).map((k) => bytes(t[k])),
    ),
  };
}

/** The manifest with other max_batch values (the graphs take any number of plans). */
function withMaxBatch(m: Manifest, vision: number, prefill: number): Manifest {
  const graphs = { ...m.graphs, vision_encoder: { ...m.graphs.vision_encoder!, maxBatch: vision } };
  if (graphs.lm_prefill) graphs.lm_prefill = { ...graphs.lm_prefill, maxBatch: prefill };
  return { ...m, graphs };
}

/**
 * The tokenizer, giving the i-th prompt it builds extra[i] more tokens (before the template's first text part's own):
 * prompts of different lengths, as a template with per-plan text would make.
 */
function longerPrompts(tok: BundleTokenizer, m: Manifest, extra: readonly number[]): BundleTokenizer {
  const first = m.prompt.template.find((p) => 'text' in p) as { text: string };
  let n = 0;
  return {
    ...tok,
    encode: (text) =>
      text === first.text
        ? [...new Array<number>(extra[n++]!).fill(tok.cotEnd), ...tok.encode(text)]
        : tok.encode(text),
  };
}

const BUNDLES: Array<{ name: string; make: (dir: string) => unknown }> = [
  { name: 'demo bundle', make: (d) => makeDemoBundle(d) },
  { name: 'tiny AR1 bundle, split form', make: (d) => makeTinyAr1Bundle(d) },
  {
    name: 'tiny AR1 bundle, fused form (vision batched, generate per plan)',
    make: (d) => makeTinyAr1Bundle(d, { form: 'fused' }),
  },
];

describe('plans batched in one pass: one vision run, one prefill run per prompt length, bit-identical to each plan alone', function () {
  this.timeout(120000);
  let base: string;
  before(() => {
    base = mkdtempSync(join(tmpdir(), 'ar1-batched-'));
  });
  after(() => rmSync(base, { recursive: true, force: true }));

  for (const bundle of BUNDLES) {
    describe(bundle.name, () => {
      let m: Manifest;
      let tok: BundleTokenizer;
      let sessions: SessionSet;
      const calls: Array<{ role: GraphRole; feeds: Record<string, Tensor> }> = [];
      let inner: GraphRunner;
      const counting: GraphRunner = {
        run(role, feeds) {
          calls.push({ role, feeds });
          return inner.run(role, feeds);
        },
      };
      const ctx = (over: Partial<PipelineContext> = {}): PipelineContext => {
        const manifest = over.manifest ?? m;
        return {
          manifest,
          tokenizer: over.tokenizer ?? tok,
          runner: checkedRunner(over.runner ?? counting, manifest),
          now: () => 0,
        };
      };
      const alone = (c: Case, over: Partial<PipelineContext> = {}) =>
        runPipeline(ctx(over), c.px, c.h, c.seed, c.samples);
      const plans = (cs: readonly Case[]): PipelinePlan[] =>
        cs.map((c) => ({ pixels: () => c.px, history: c.h, seed: c.seed, samples: c.samples }));
      const runs = (role: GraphRole) => calls.filter((c) => c.role === role);
      const fulfilled = (r: PromiseSettledResult<PipelineOutput>, i: number): PipelineOutput => {
        if (r.status === 'rejected') throw new Error(`plan ${i}: ${String(r.reason)}`);
        return r.value;
      };

      before(async () => {
        const dir = join(base, bundle.name.replace(/\W+/g, '-'));
        bundle.make(dir);
        const v = await verifyBundle(dir);
        m = v.manifest;
        tok = loadTokenizer(v.tokenizerJson, m);
        sessions = await createSessions(v.graphPaths, ['cpu'], silentLogger);
        inner = sessions.runner;
      });
      after(async () => {
        await sessions?.release();
      });
      beforeEach(() => {
        calls.length = 0;
        inner = sessions.runner;
      });

      it('declares max_batch 8 for vision (and prefill in the split form)', () => {
        expect(m.graphs.vision_encoder!.maxBatch).to.equal(8);
        if (m.form === 'split') expect(m.graphs.lm_prefill!.maxBatch).to.equal(8);
      });

      for (const B of [2, 3, 4]) {
        it(`${B} plans (different pixels, histories, seeds, samples): one vision run${bundle.name.includes('fused') ? '' : ' and one prefill run'}, each plan bit-identical alone`, async () => {
          const cs = cases(m, B, B);
          const want: Array<ReturnType<typeof bits>> = [];
          for (const c of cs) want.push(bits(await alone(c)));
          calls.length = 0;
          const got = await runPipelineBatch(ctx(), plans(cs));
          got.forEach((r, i) => expect(bits(fulfilled(r, i)), `plan ${i}`).to.deep.equal(want[i]));
          expect(new Set(want.map((w) => JSON.stringify(w.tokenIds))).size, 'the plans differ').to.equal(B);
          const N = m.cameras.names.length * m.cameras.framesPerCamera;
          expect(runs('vision_encoder').map((c) => c.feeds.pixel_values!.dims[0])).to.deep.equal([B * N]);
          if (m.form === 'split') {
            expect(runs('lm_prefill').map((c) => c.feeds.input_ids!.dims[0])).to.deep.equal([B]);
            expect(runs('lm_decode')[0]!.feeds.input_ids!.dims[0], 'every sample of every plan').to.equal(
              cs.reduce((n, c) => n + c.samples, 0),
            );
          } else expect(runs('generate')).to.have.length(B);
        });
      }

      it('max_batch bounds a run: 5 plans at vision 3 / prefill 2 take 2 and 3 runs; at 1, plan by plan; the same outputs', async () => {
        const cs = cases(m, 5, 20);
        const want: Array<ReturnType<typeof bits>> = [];
        for (const c of cs) want.push(bits(await alone(c)));
        for (const [vision, prefill, visionRuns, prefillRuns] of [
          [3, 2, [3, 2], [2, 2, 1]],
          [1, 1, [1, 1, 1, 1, 1], [1, 1, 1, 1, 1]],
        ] as const) {
          calls.length = 0;
          const got = await runPipelineBatch(ctx({ manifest: withMaxBatch(m, vision, prefill) }), plans(cs));
          got.forEach((r, i) =>
            expect(bits(fulfilled(r, i)), `max_batch ${vision}/${prefill} plan ${i}`).to.deep.equal(want[i]),
          );
          const N = m.cameras.names.length * m.cameras.framesPerCamera;
          expect(runs('vision_encoder').map((c) => c.feeds.pixel_values!.dims[0]! / N)).to.deep.equal(visionRuns);
          if (m.form === 'split')
            expect(runs('lm_prefill').map((c) => c.feeds.input_ids!.dims[0])).to.deep.equal(prefillRuns);
        }
      });

      it('a plan that fails fails alone with its own error: its pixels (the next plan takes its row), a shared vision or prefill run that throws', async () => {
        const cs = cases(m, 4, 30);
        const want: Array<ReturnType<typeof bits>> = [];
        for (const c of cs) want.push(bits(await alone(c)));
        // Plan 2's embeddings are NaN (a vision graph that fails on its images); alone, it fails with this error:
        const N = m.cameras.names.length * m.cameras.framesPerCamera;
        const plan2 = Buffer.from((cs[2]!.px.data as Uint8Array).subarray(0, 4096));
        const poison: GraphRunner = {
          async run(role, feeds) {
            const out = await sessions.runner.run(role, feeds);
            if (role === 'vision_encoder') {
              const px = feeds.pixel_values!.data as Uint8Array;
              const plans = feeds.pixel_values!.dims[0]! / N;
              const embeds = out.image_embeds!;
              const rows = embeds.dims[0]! / plans;
              for (let b = 0; b < plans; b++) {
                const at = (b * px.length) / plans;
                if (plan2.equals(px.subarray(at, at + 4096))) floatValues(embeds)[b * rows * embeds.dims[1]!] = NaN;
              }
            }
            if (role === 'lm_prefill' && feeds.input_ids!.dims[0]! > 1) throw new Error('prefill: out of memory');
            return out;
          },
        };
        inner = poison;
        let error2 = '';
        await alone(cs[2]!).catch((e: Error) => (error2 = e.message));
        expect(error2).to.match(/output image_embeds\[0\] is NaN/);
        const rows: number[] = [];
        calls.length = 0;
        const got = await runPipelineBatch(
          ctx(),
          cs.map((c, i) => ({
            pixels: (row: number) => {
              rows.push(row);
              if (i === 1) throw new Error('camera_front_wide_120fov[2]: cannot decode jpeg');
              return c.px;
            },
            history: c.h,
            seed: c.seed,
            samples: c.samples,
          })),
        );
        expect(rows, 'plan 1 failed: plan 2 took its row').to.deep.equal([0, 1, 1, 2]);
        expect(String((got[1] as PromiseRejectedResult).reason)).to.match(/cannot decode jpeg/);
        expect((got[2] as PromiseRejectedResult).reason.message).to.equal(error2);
        for (const i of [0, 3]) expect(bits(fulfilled(got[i]!, i)), `plan ${i}`).to.deep.equal(want[i]);
        // Vision: the run of 3 plans threw, then each plan alone. Prefill (split): the run of 2 threw, then each alone.
        expect(runs('vision_encoder').map((c) => c.feeds.pixel_values!.dims[0]! / N)).to.deep.equal([3, 1, 1, 1]);
        if (m.form === 'split')
          expect(runs('lm_prefill').map((c) => c.feeds.input_ids!.dims[0])).to.deep.equal([2, 1, 1]);
      });

      if (bundle.name.includes('split') || bundle.name === 'demo bundle')
        it('prompts of different lengths: one prefill run per length (nothing padded), decoded per length, each bit-identical alone', async () => {
          const cs = cases(m, 4, 40);
          const extra = [0, 3, 0, 3];
          const want: Array<ReturnType<typeof bits>> = [];
          for (const [i, c] of cs.entries())
            want.push(bits(await alone(c, { tokenizer: longerPrompts(tok, m, [extra[i]!]) })));
          calls.length = 0;
          const got = await runPipelineBatch(ctx({ tokenizer: longerPrompts(tok, m, extra) }), plans(cs));
          got.forEach((r, i) => expect(bits(fulfilled(r, i)), `plan ${i}`).to.deep.equal(want[i]));
          const S = (c: { feeds: Record<string, Tensor> }) => c.feeds.input_ids!.dims;
          const prefills = runs('lm_prefill').map(S);
          expect(prefills).to.have.length(2);
          expect(prefills.map((d) => d[0])).to.deep.equal([2, 2]);
          expect(prefills[1]![1]! - prefills[0]![1]!).to.equal(3);
          expect(runs('vision_encoder')).to.have.length(1);
        });
    });
  }
});
