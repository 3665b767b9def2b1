/** The tiny AR1's fused `generate` graph: the decode and flow-matching loops inside one ONNX graph. */
import { deepstackName } from '../bundle/manifest.js';
import { MINSTD_MODULUS, MINSTD_MULTIPLIER, MINSTD_SEED_MULTIPLIER } from '../ar1/tokenRng.js';
import { GraphBuilder, type TensorSpec } from './graphBuilder.js';
import { expertForward, expertWeights, lmForward, lmWeights, STEPS, TINY } from './tinyTransformer.js';

/**
 * The fused form: prefill, then an ONNX Loop that samples one token per sample per iteration from the logits
 * (temperature, top-p, logit_bias masking the trajectory tokens, the contract's MINSTD uniforms seeded by `seeds`)
 * and runs the decode step with the per-layer fp16 cache as loop-carried state, until every sample has put
 * <|traj_future_start|> into its cache or max_tokens; then a second Loop integrates the expert's velocity over
 * flow_steps Euler steps from `noise`, attending to that cache. Only tokens, counts and actions leave the graph.
 * Same weights (same seed streams) as the split graphs, so both forms plan alike.
 */
export function generateGraph(
  io: { inputs: TensorSpec[]; outputs: TensorSpec[] },
  seed: number,
  layers: number,
  V: number,
  imagePad: number,
): Uint8Array {
  const g = new GraphBuilder('generate');
  const LW = lmWeights(g, seed, layers, V);
  const EW = expertWeights(g, seed, layers);
  const deepstack = Array.from({ length: TINY.deepstack }, (_, j) => deepstackName(j));
  const pre = lmForward(g, LW, {
    ids: 'input_ids',
    positions: 'position_ids',
    image: { embeds: 'image_embeds', deepstack, pad: imagePad },
  });
  const i64 = (v: number) => g.int64([v], []);
  const K1 = g.op('Shape', ['seeds']); // [1]: K
  const S = g.op('Squeeze', [
    g.op('Slice', [g.op('Shape', ['input_ids']), g.int64([1], [1]), g.int64([2], [1])]),
    g.int64([0], [1]),
  ]); // scalar
  const delta = g.op('Sub', [g.op('Add', [g.op('ReduceMax', ['position_ids'], { keepdims: { i: 0 } }), i64(1)]), S]);
  const batchCache = g.op('Concat', [K1, g.int64([1, 1, 1], [3])], { axis: { i: 0 } });
  const cache0 = pre.present.flatMap(([k, v]) => [g.op('Expand', [k, batchCache]), g.op('Expand', [v, batchCache])]);
  const logits0 = g.op('Expand', [pre.logits, g.op('Concat', [K1, g.int64([1], [1])], { axis: { i: 0 } })]);
  const zeros = g.op('Sub', ['seeds', 'seeds']);
  const m = MINSTD_MODULUS;
  const rng0 = g.op(
    'Mod',
    [
      g.op('Mul', [
        g.op('Add', [g.op('Mod', ['seeds', i64(m - 1)], { fmod: { i: 0 } }), i64(1)]),
        i64(MINSTD_SEED_MULTIPLIER),
      ]),
      i64(m),
    ],
    { fmod: { i: 0 } },
  );
  const done0 = g.op('Cast', [zeros], { to: { i: 9 } });

  // Reasoning loop body.
  const b = new GraphBuilder('reasoning_step', 'rs_');
  const bi = (v: number) => b.int64([v], []);
  const cacheIn = Array.from({ length: 2 * layers }, (_, j) => `rs_in_cache_${j}`);
  const r1 = b.op('Mod', [b.op('Mul', ['rs_in_rng', bi(MINSTD_MULTIPLIER)]), bi(m)], { fmod: { i: 0 } });
  const u = b.op('Div', [b.op('Cast', [r1], { to: { i: 1 } }), b.scalar(m)]);
  const sampled = sampleInGraph(b, 'rs_in_logits', u, V);
  const tok = b.op('Where', ['rs_in_done', 'rs_in_last', sampled]);
  const notDone = b.op('Not', ['rs_in_done']);
  const count = b.op('Add', ['rs_in_count', b.op('Cast', [notDone], { to: { i: 7 } })]);
  const rng = b.op('Where', ['rs_in_done', 'rs_in_rng', r1]);
  const atBound = b.op('Equal', [b.op('Add', ['rs_iter', bi(1)]), 'max_tokens']);
  // A sample is done once its stop token has been decoded into the cache; at the bound nothing more is decoded.
  const done = b.op('Or', ['rs_in_done', b.op('And', [b.op('Equal', [tok, 'stop_token']), b.op('Not', [atBound])])]);
  const pos = b.op('Expand', [
    b.op('Reshape', [b.op('Add', [b.op('Add', [S, 'rs_iter']), delta]), b.int64([1, 1, 1], [3])]),
    b.op('Concat', [b.int64([3], [1]), K1, b.int64([1], [1])], { axis: { i: 0 } }),
  ]);
  const step = lmForward(b, LW, {
    ids: b.op('Unsqueeze', [tok, b.int64([1], [1])]),
    positions: pos,
    past: Array.from({ length: layers }, (_, i): [string, string] => [cacheIn[2 * i]!, cacheIn[2 * i + 1]!]),
  });
  const allDone = b.op('Cast', [b.op('ReduceMin', [b.op('Cast', [done], { to: { i: 6 } })], { keepdims: { i: 0 } })], {
    to: { i: 9 },
  });
  const cond = b.op('And', [b.op('Not', [allDone]), b.op('Not', [atBound])]);
  const outs = [
    b.op('Identity', [cond]),
    b.op('Identity', [step.logits]),
    b.op('Identity', [rng]),
    b.op('Identity', [done]),
    b.op('Identity', [count]),
    b.op('Identity', [tok]),
    ...step.present.flatMap(([k, v]) => [b.op('Identity', [k]), b.op('Identity', [v])]),
    b.op('Identity', [tok]),
  ];
  const any = (name: string, dtype: TensorSpec['dtype'], rank: number): TensorSpec => ({
    name,
    dtype,
    shape: Array.from({ length: rank }, (_, i) => `${name}_d${i}`),
  });
  const body = b.subgraph(
    [
      any('rs_iter', 'int64', 0),
      any('rs_cond', 'bool', 0),
      any('rs_in_logits', 'float32', 2),
      any('rs_in_rng', 'int64', 1),
      any('rs_in_done', 'bool', 1),
      any('rs_in_count', 'int64', 1),
      any('rs_in_last', 'int64', 1),
      ...cacheIn.map((n) => any(n, 'float16', 4)),
    ],
    [
      any(outs[0]!, 'bool', 0),
      any(outs[1]!, 'float32', 2),
      any(outs[2]!, 'int64', 1),
      any(outs[3]!, 'bool', 1),
      any(outs[4]!, 'int64', 1),
      any(outs[5]!, 'int64', 1),
      ...outs.slice(6, 6 + 2 * layers).map((n) => any(n, 'float16', 4)),
      any(outs.at(-1)!, 'int64', 1),
    ],
  );
  const carried = [
    'r_logits',
    'r_rng',
    'r_done',
    'r_count',
    'r_last',
    ...Array.from({ length: 2 * layers }, (_, j) => `r_cache_${j}`),
  ];
  const loopOut = g.opN(
    'Loop',
    ['max_tokens', g.op('Cast', [i64(1)], { to: { i: 9 } }), logits0, rng0, done0, zeros, zeros, ...cache0],
    [...carried, 'r_tokens_scan'],
    { body: { g: body } },
  );
  const [, , doneF, countF] = loopOut;
  const cacheF = loopOut.slice(5, 5 + 2 * layers);
  g.op('Transpose', ['r_tokens_scan'], { perm: { ints: [1, 0] } }, 'tokens');
  g.op('Identity', [countF!], {}, 'token_counts');

  // Expert conditioning: the first action token one after the stop (or after the bound's last token); attend to the
  // cache below each sample's valid length (through its stop token, or everything decoded before the bound).
  const offset = g.op('Add', [S, countF!]); // [K]
  const valid = g.op('Where', [doneF!, offset, g.op('Sub', [offset, i64(1)])]);
  const P = g.op('Squeeze', [
    g.op('Slice', [g.op('Shape', [cacheF[0]!]), g.int64([2], [1]), g.int64([3], [1])]),
    g.int64([0], [1]),
  ]);
  const j = g.op('Range', [i64(0), g.op('Add', [P, i64(STEPS)]), i64(1)]); // [T]
  const validCol = g.op('Unsqueeze', [valid, g.int64([1], [1])]); // [K, 1]
  const hidden = g.op('And', [g.op('GreaterOrEqual', [j, validCol]), g.op('Less', [j, P])]); // [K, T]
  const mask = g.op('Unsqueeze', [
    g.op('Where', [hidden, g.scalar(-3.4028234663852886e38), g.scalar(0)]),
    g.int64([1, 2], [2]),
  ]); // [K, 1, 1, T]
  const k64 = g.op('Range', [i64(0), i64(STEPS), i64(1)]);
  const posRow = g.op('Add', [g.op('Unsqueeze', [g.op('Add', [offset, delta]), g.int64([1], [1])]), k64]); // [K, 64]
  const expertPos = g.op('Expand', [
    g.op('Unsqueeze', [posRow, g.int64([0], [1])]),
    g.op('Concat', [g.int64([3], [1]), K1, g.int64([STEPS], [1])], { axis: { i: 0 } }),
  ]);

  // Flow-matching loop body.
  const f = new GraphBuilder('flow_step', 'fs_');
  const steps = f.op('Cast', ['flow_steps'], { to: { i: 1 } });
  const tK = f.op('Expand', [f.op('Div', [f.op('Cast', ['fs_iter'], { to: { i: 1 } }), steps]), K1]);
  const vel = expertForward(f, EW, {
    x: 'fs_in_x',
    t: tK,
    positions: expertPos,
    mask,
    past: Array.from({ length: layers }, (_, i): [string, string] => [cacheF[2 * i]!, cacheF[2 * i + 1]!]),
  });
  const xNext = f.op('Add', ['fs_in_x', f.op('Div', [vel, steps])]);
  const fOuts = [f.op('Identity', ['fs_cond']), f.op('Identity', [xNext])];
  const flowBody = f.subgraph(
    [any('fs_iter', 'int64', 0), any('fs_cond', 'bool', 0), any('fs_in_x', 'float32', 3)],
    [any(fOuts[0]!, 'bool', 0), any(fOuts[1]!, 'float32', 3)],
  );
  g.opN('Loop', ['flow_steps', g.op('Cast', [i64(1)], { to: { i: 9 } }), 'noise'], ['actions'], {
    body: { g: flowBody },
  });
  return g.encode(
    io.inputs,
    io.outputs,
    'tiny AR1 fused: prefill, in-graph sampled reasoning loop with a loop-carried cache, in-graph flow-matching loop',
  );
}

/**
 * Temperature + top-p sampling of one token per row of logits [K, V] with uniforms u [K], exactly the host
 * sampler's rule: probabilities sorted descending (ties: lower id first), keep the smallest prefix whose mass
 * reaches top_p (the crossing token kept), pick the first kept token whose cumulative mass exceeds u × kept mass.
 */
function sampleInGraph(g: GraphBuilder, logits: string, u: string, V: number): string {
  const p = g.op('Softmax', [g.op('Div', [g.op('Add', [logits, 'logit_bias']), 'temperature'])], { axis: { i: -1 } });
  const [sp, si] = g.opN('TopK', [p, g.int64([V], [1])], [g.fresh('sorted'), g.fresh('order')], {
    axis: { i: -1 },
    largest: { i: 1 },
    sorted: { i: 1 },
  });
  const cum = g.op('CumSum', [sp!, g.int64([-1], [])]);
  const keep = g.op('Less', [g.op('Sub', [cum, sp!]), 'top_p']);
  const kept = g.op('ReduceSum', [g.op('Where', [keep, sp!, g.scalar(0)]), g.int64([-1], [1])], { keepdims: { i: 1 } }); // [K, 1]
  const target = g.op('Mul', [g.op('Unsqueeze', [u, g.int64([1], [1])]), kept]);
  const hit = g.op('Cast', [g.op('And', [g.op('Greater', [cum, target]), keep])], { to: { i: 1 } });
  const first = g.op('ArgMax', [hit], { axis: { i: -1 }, keepdims: { i: 1 } }); // first 1 (ties → lowest index)
  return g.op('Reshape', [g.op('GatherElements', [si!, first], { axis: { i: -1 } }), g.int64([-1], [1])]);
}
