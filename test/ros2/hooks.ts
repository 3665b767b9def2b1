/**
 * Root hooks of the ROS 2 suite (`npm run test:ros2`), registered once by whichever test file imports this module
 * first, so a single file can be run on its own (`npx mocha test/ros2/faults.test.ts`). The suite never skips:
 * where ROS 2 is missing it fails here, with the reason. One demo bundle at the cameras' real size (1920×1080)
 * serves every test.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO, closeGraph, isolateGraph, ros2Unavailable } from './graph.js';

let dir = '';

/** The demo bundle made for 1920×1080 frames (set before any test runs). */
export const suite = { bundle: '' };

before(function (this: Mocha.Context): void {
  this.timeout(120_000);
  const why = ros2Unavailable();
  if (why) throw new Error(`the ROS 2 suite cannot run here: ${why}`);
  isolateGraph();
  dir = mkdtempSync(join(tmpdir(), 'ar1-ros2-'));
  suite.bundle = join(dir, 'bundle');
  const made = spawnSync(
    process.execPath,
    [join(REPO, 'bin', 'ar1.js'), 'model', 'make-demo', suite.bundle, '--image-size', '1080x1920'],
    { cwd: REPO, encoding: 'utf8' },
  );
  if (made.status !== 0) throw new Error(`ar1 model make-demo failed (exit ${made.status}): ${made.stderr}`);
});

after(async () => {
  await closeGraph();
  if (dir) rmSync(dir, { recursive: true, force: true });
});
