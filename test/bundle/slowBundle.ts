import { makeDemoBundle, type DemoBundleOptions } from '../../nodes/syntheticBundles/demoBundle.js';
import { GraphBuilder } from '../../nodes/syntheticBundles/graphBuilder.js';
import { replaceFile } from './bundleFixtures.js';

/**
 * The demo bundle with a vision encoder that takes long: a chain of `matmuls` 1024² MatMuls that depends on the
 * pixels (about 25 ms each on the 2-core development machine). A plan then stays inside session.run, as one does when
 * the planner's plan_timeout_s gives up on it or a node is stopped while it runs.
 */
export function slowDemoBundle(dir: string, matmuls: number, opts: DemoBundleOptions = {}): void {
  const m = makeDemoBundle(dir, opts);
  const { width, height } = m.image.model;
  const g = new GraphBuilder('slow_vision_encoder');
  const x = g.op('Cast', ['pixel_values'], { to: { i: 1 } });
  const perImage = g.op('Reshape', [
    g.op('ReduceMean', [x], { axes: { ints: [1, 2, 3] }, keepdims: { i: 1 } }),
    g.int64([-1, 1], [2]),
  ]);
  const mean = g.op('ReduceMean', [x], { axes: { ints: [0, 1, 2, 3] }, keepdims: { i: 0 } });
  let big = g.op('Expand', [g.op('Mul', [mean, g.scalar(1e-6)]), g.int64([1024, 1024], [2])]);
  for (let i = 0; i < matmuls; i++) big = g.op('MatMul', [big, big]);
  const zero = g.op('Mul', [g.op('ReduceMean', [big], { axes: { ints: [0, 1] }, keepdims: { i: 0 } }), g.scalar(0)]);
  g.op('Add', [g.op('MatMul', [perImage, g.float([0.001, 0, 0, 0], [1, 4])]), zero], {}, 'image_embeds');
  replaceFile(
    dir,
    'vision_encoder.onnx',
    g.encode(
      [{ name: 'pixel_values', dtype: 'uint8', shape: ['images', height, width, 3] }],
      [{ name: 'image_embeds', dtype: 'float32', shape: ['image_tokens', 4] }],
    ),
  );
}
