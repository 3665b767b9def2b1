import { expect } from 'chai';
import { SeededRng } from '../../nodes/ar1/rng.js';
import { sampleToken } from '../../nodes/ar1/sampling.js';

describe('SeededRng', () => {
  it('same seed → same stream; different seed or stream → different', () => {
    const a = new SeededRng(42).normals(8),
      b = new SeededRng(42).normals(8);
    expect([...a]).to.deep.equal([...b]);
    expect([...new SeededRng(43).normals(8)]).to.not.deep.equal([...a]);
    expect([...new SeededRng(42, 1).normals(8)]).to.not.deep.equal([...a]);
  });
  it('normals have mean ≈ 0 and variance ≈ 1', () => {
    const x = new SeededRng(7).normals(20000);
    const mean = x.reduce((s, v) => s + v, 0) / x.length;
    const varc = x.reduce((s, v) => s + (v - mean) ** 2, 0) / x.length;
    expect(mean).to.be.closeTo(0, 0.03);
    expect(varc).to.be.closeTo(1, 0.04);
  });
});

describe('sampleToken (temperature, top-p, masks)', () => {
  it('temperature 0 is argmax, skipping masked ids', () => {
    expect(sampleToken([1, 5, 3], { temperature: 0, topP: 1 }, new SeededRng(1))).to.equal(1);
    expect(sampleToken([1, 5, 3], { temperature: 0, topP: 1 }, new SeededRng(1), new Set([1]))).to.equal(2);
  });
  it('top-p cuts the tail: a dominant token is always chosen', () => {
    const rng = new SeededRng(3);
    for (let i = 0; i < 200; i++) expect(sampleToken([10, 0, 0, 0], { temperature: 1, topP: 0.9 }, rng)).to.equal(0);
  });
  it('follows softmax(logits / T) inside the nucleus', () => {
    const rng = new SeededRng(5);
    const counts = [0, 0];
    for (let i = 0; i < 4000; i++)
      counts[sampleToken([0, Math.log(3) * 0.5, -50], { temperature: 0.5, topP: 0.999 }, rng)]! += 1;
    expect(counts[1]! / 4000).to.be.closeTo(0.75, 0.03); // p ∝ [1, 3]
  });
  it('same seed → same draws', () => {
    const draw = (seed: number) => {
      const r = new SeededRng(seed);
      return Array.from({ length: 20 }, () => sampleToken([0, 0.1, 0.2, 0.3], { temperature: 0.6, topP: 0.98 }, r));
    };
    expect(draw(9)).to.deep.equal(draw(9));
  });
  it('refuses NaN logits and an all-masked vocabulary', () => {
    expect(() => sampleToken([0, NaN], { temperature: 1, topP: 1 }, new SeededRng(1))).to.throw(
      RangeError,
      /logits\[1\] is NaN/,
    );
    expect(() => sampleToken([0], { temperature: 1, topP: 1 }, new SeededRng(1), new Set([0]))).to.throw(
      RangeError,
      /masked/,
    );
  });
});
