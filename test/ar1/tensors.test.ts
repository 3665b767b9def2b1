import { expect } from 'chai';
import { EngineError } from '../../nodes/core/planningEngine.js';
import { fromHalfBits, toFloat16, toHalfBits } from '../../nodes/ar1/float16.js';
import { checkedRunner } from '../../nodes/ar1/planPipeline.js';
import { buildPrompt, decodePositions, expertPositions } from '../../nodes/ar1/prompt.js';
import { firstNonFinite, floatTensor, floatValues, joinRows, repeatBatch, rowsView } from '../../nodes/ar1/tensors.js';
import type { Tensor } from '../../nodes/ar1/tensors.js';
import { minstdInit, TokenRng } from '../../nodes/ar1/tokenRng.js';
import { makeTinyAr1Bundle } from '../../nodes/syntheticBundles/tinyAr1Bundle.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

describe('engine: float16, tensors, prompt positions, token stream', () => {
  it('converts float16 like a hardware cast: exact values, round half to even, subnormals, overflow, NaN', () => {
    for (const [v, bits] of [
      [1, 0x3c00],
      [-2, 0xc000],
      [65504, 0x7bff],
      [2 ** -24, 0x0001],
      [2 ** -14, 0x0400],
      [0, 0],
      [Infinity, 0x7c00],
    ] as const) {
      expect(toHalfBits(v), String(v)).to.equal(bits);
      expect(fromHalfBits(bits)).to.equal(v);
    }
    expect(toHalfBits(1 + 2 ** -11)).to.equal(0x3c00); // halfway between 1 and the next half: ties to even (down)
    expect(toHalfBits(1 + 3 * 2 ** -11)).to.equal(0x3c02); // halfway, odd below: up
    expect(toHalfBits(65520)).to.equal(0x7c00); // rounds past the largest half: Infinity
    expect(Number.isNaN(fromHalfBits(toHalfBits(NaN)))).to.equal(true);
    for (let i = 0; i < 2000; i++) {
      const v = (i - 1000) * 0.37;
      expect(Math.abs(fromHalfBits(toHalfBits(v)) - v)).to.be.at.most(Math.abs(v) * 2 ** -11 + 1e-12);
    }
  });

  it('builds runtime tensors in the declared float dtype and reads either back; repeats a batch-1 cache', () => {
    const t = floatTensor('float16', Float32Array.of(0.5, -3), [2]);
    expect(t.data).to.be.instanceOf(Uint16Array);
    expect(Array.from(floatValues(t))).to.deep.equal([0.5, -3]);
    expect(floatTensor('float32', Float32Array.of(1), [1]).type).to.equal('float32');
    expect(() => floatTensor('int64', Float32Array.of(1), [1])).to.throw(/float32 or float16/);
    const c = repeatBatch({ type: 'float16', data: toFloat16([1, 2, 3]), dims: [1, 1, 3, 1] }, 3);
    expect(c.dims).to.deep.equal([3, 1, 3, 1]);
    expect(Array.from(floatValues(c))).to.deep.equal([1, 2, 3, 1, 2, 3, 1, 2, 3]);
  });

  it('rows of a batch: views without a copy; joined as a view when they lie one after another in one buffer, else copied', () => {
    const buffer = new Uint8Array(4 * 2 * 3).map((_, i) => i);
    const rowsOf = (start: number, count: number): Tensor =>
      rowsView({ type: 'uint8', data: buffer, dims: [4, 2, 3] }, start, count);
    const r1 = rowsOf(1, 2);
    expect(r1.dims).to.deep.equal([2, 2, 3]);
    expect(r1.data.buffer).to.equal(buffer.buffer);
    expect(Array.from(r1.data as Uint8Array)).to.deep.equal(Array.from(buffer.subarray(6, 18)));
    expect(() => rowsOf(3, 2)).to.throw(RangeError, /rows 3\.\.5 outside \[0, 4\)/);
    // Adjacent rows of one buffer (a worker's pixel rows): one view, no copy.
    const adjacent = joinRows([rowsOf(0, 1), rowsOf(1, 1), rowsOf(2, 2)]);
    expect(adjacent.dims).to.deep.equal([4, 2, 3]);
    expect(adjacent.data.buffer).to.equal(buffer.buffer);
    expect(Array.from(adjacent.data as Uint8Array)).to.deep.equal(Array.from(buffer));
    // Out of order, or separate arrays: a copy, in the order given.
    const swapped = joinRows([rowsOf(2, 1), rowsOf(0, 1)]);
    expect(swapped.data.buffer).not.to.equal(buffer.buffer);
    expect(Array.from(swapped.data as Uint8Array)).to.deep.equal([
      ...buffer.subarray(12, 18),
      ...buffer.subarray(0, 6),
    ]);
    const apart = joinRows([
      { type: 'float32', data: Float32Array.of(1, 2), dims: [1, 2] },
      { type: 'float32', data: Float32Array.of(3, 4), dims: [1, 2] },
    ]);
    expect(apart).to.deep.equal({ type: 'float32', data: Float32Array.of(1, 2, 3, 4), dims: [2, 2] });
    const one = rowsOf(0, 1);
    expect(joinRows([one])).to.equal(one);
    expect(() => joinRows([rowsOf(0, 1), { type: 'uint8', data: new Uint8Array(4), dims: [1, 4] }])).to.throw(
      RangeError,
      /do not join/,
    );
  });

  it('finds NaN/Inf in float16 outputs too: EngineError(non_finite) naming graph, tensor and index', async () => {
    expect(firstNonFinite({ type: 'float16', data: Uint16Array.of(0x3c00, 0x7e00), dims: [2] })).to.equal(1);
    const dir = mkdtempSync(join(tmpdir(), 'ar1-t16-'));
    try {
      const m = makeTinyAr1Bundle(join(dir, 'b'));
      const bad = checkedRunner(
        {
          async run() {
            return { 'present.0.key': { type: 'float16', data: Uint16Array.of(0, 0xfc00), dims: [2] } };
          },
        },
        m,
      );
      let err: unknown;
      try {
        await bad.run('lm_decode', {});
      } catch (e) {
        err = e;
      }
      expect(err).to.be.instanceOf(EngineError);
      expect((err as EngineError).kind).to.equal('non_finite');
      expect((err as Error).message).to.match(/lm_decode\.onnx: output present\.0\.key\[1\] is -Infinity/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('builds the prompt and 3-axis positions as Qwen-VL does for still images', () => {
    const m = {
      vision: { grid: [2, 3] },
      prompt: {
        template: [{ text: 'a' }, { images: true }, { history: true }, { text: 'b c' }],
        imageStart: 'S',
        imagePad: 'P',
        imageEnd: 'E',
      },
    };
    const ids: Record<string, number> = { S: 1, P: 2, E: 3, a: 10, b: 11, c: 12 };
    const tok = { encode: (t: string) => t.split(' ').map((w) => ids[w]!), idOf: (t: string) => ids[t]! };
    const p = buildPrompt(m as never, tok, [500, 501], 2);
    // a S P×6 E S P×6 E h h b c
    expect(p.ids).to.deep.equal([10, 1, 2, 2, 2, 2, 2, 2, 3, 1, 2, 2, 2, 2, 2, 2, 3, 500, 501, 11, 12]);
    const L = p.ids.length;
    const [t, h, w] = [p.positions.slice(0, L), p.positions.slice(L, 2 * L), p.positions.slice(2 * L)];
    expect(t.slice(0, 9)).to.deep.equal([0, 1, 2, 2, 2, 2, 2, 2, 5]);
    expect(h.slice(0, 9)).to.deep.equal([0, 1, 2, 2, 2, 3, 3, 3, 5]);
    expect(w.slice(0, 9)).to.deep.equal([0, 1, 2, 3, 4, 2, 3, 4, 5]);
    expect(t.at(-1)).to.equal(14); // each 2×3 image advances text by max(2, 3) = 3 positions, not 6
    expect(p.ropeDelta).to.equal(15 - L);
    expect(decodePositions(L, p.ropeDelta, 2)).to.deep.equal([15, 15, 15, 15, 15, 15]);
    expect(expertPositions([L + 3], p.ropeDelta, 2)).to.deep.equal([18, 19, 18, 19, 18, 19]);
  });

  it('token stream: float32 uniforms in (0, 1), reproducible, seeds decorrelated', () => {
    const a = new TokenRng(5),
      b = new TokenRng(5),
      c = new TokenRng(6);
    const xa = Array.from({ length: 1000 }, () => a.uniform());
    expect(Array.from({ length: 1000 }, () => b.uniform())).to.deep.equal(xa);
    expect(xa.every((u) => u > 0 && u < 1 && Math.fround(u) === u)).to.equal(true);
    const xc = Array.from({ length: 1000 }, () => c.uniform());
    expect(Math.abs(xa[0]! - xc[0]!)).to.be.greaterThan(0.01);
    const mean = xa.reduce((s, u) => s + u, 0) / xa.length;
    expect(mean).to.be.closeTo(0.5, 0.05);
    expect(minstdInit(-1)).to.equal(minstdInit(2147483645)); // ONNX Mod (sign of the divisor)
  });
});
