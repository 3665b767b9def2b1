/** Smoke test of bench/sim.ts: it runs a short scenario and returns well-formed figures (no wall-clock assertions). */
import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { benchSim } from '../../bench/sim.js';
import { createOnnxEngine } from '../../nodes/adapters/onnxruntime/index.js';
import { makeDemoBundle } from '../../nodes/syntheticBundles/index.js';

describe('bench/sim: closed-loop simulation speed', function () {
  this.timeout(60000);
  it('simulated seconds per wall second, rendered and flat; the wall time splits into model, rendering and the rest', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ar1-bench-sim-'));
    try {
      makeDemoBundle(join(dir, 'bundle'));
      writeFileSync(
        join(dir, 's.yaml'),
        'name: s\nduration_s: 3\nroad: { width_m: 7.2, segments: [{ kind: straight, length_m: 100 }] }\nroute: { length_m: 50 }\nego: { speed_mps: 5 }\npass: {}\n',
      );
      const engine = await createOnnxEngine({ bundleDir: join(dir, 'bundle'), executionProviders: ['cpu'] });
      try {
        for (const render of [true, false]) {
          const f = await benchSim({ engine, outDir: join(dir, 'out'), render, scenarioFile: join(dir, 's.yaml') });
          expect(f.simulatedS).to.equal(3);
          expect(f.plans).to.be.greaterThan(5);
          expect(f.realTimeFactor).to.be.closeTo(f.simulatedS / f.wallS, 0.01 * f.realTimeFactor + 0.01);
          expect(f.modelS).to.be.at.most(f.wallS);
          expect(f.renderS > 0).to.equal(render);
          expect(f.restS).to.be.at.least(0);
        }
      } finally {
        await engine.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
