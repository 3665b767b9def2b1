import { expect } from 'chai';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createBagWriter } from '../../nodes/adapters/mcap/index.js';
import { createOnnxEngine } from '../../nodes/adapters/onnxruntime/index.js';
import type { PlanningEngine } from '../../nodes/core/planningEngine.js';
import { MemoryLogger } from '../../nodes/core/logger.js';
import { nanosToStamp } from '../../nodes/core/time.js';
import { makeDemoBundle } from '../../nodes/syntheticBundles/index.js';
import { MAX_INPUT_GAP_S, replayBag } from '../../nodes/replay/runner.js';
import { makeSampleBag } from '../../nodes/replay/sampleBag.js';

const SAMPLE_PARAMS = fileURLToPath(new URL('../../config/sample_bag.yaml', import.meta.url));
const START_NS = 1_700_000_000_000_000_000n;

/** One extra MCAP file with a single message, to put beside a bag's own file (a directory of .mcap files). */
async function oneMessageFile(
  dir: string,
  name: string,
  topic: string,
  type: 'std_msgs/msg/String' | 'nav_msgs/msg/Odometry',
  logNs: bigint,
  msg: unknown,
): Promise<string> {
  const w = await createBagWriter(join(dir, `${name}-src`));
  await w.addTopic(topic, type);
  await w.write(topic, logNs, msg);
  const file = (await w.close()).file;
  const out = join(dir, `${name}.mcap`);
  copyFileSync(file, out);
  return out;
}

describe('replay: time and memory follow the input topics, not the bag', function () {
  this.timeout(120_000);
  let dir: string;
  let engine: PlanningEngine;
  let driveFile: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ar1-bounded-'));
    makeDemoBundle(join(dir, 'bundle'));
    engine = await createOnnxEngine({ bundleDir: join(dir, 'bundle'), executionProviders: ['cpu'] });
    driveFile = (await makeSampleBag(join(dir, 'drive'), { durationS: 2, seed: 4, startTimeNs: START_NS })).file;
  });
  after(async () => {
    await engine?.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const replay = (bagPath: string, out: string) =>
    replayBag({
      bagPath,
      engine,
      paramsFiles: [SAMPLE_PARAMS],
      outDir: join(dir, out),
      seed: 1,
      samples: 1,
      latency: { kind: 'fixed', ms: 100 },
      version: 'test',
    });

  it('one message at log time 1 ns on a topic replay does not use: replayed over the input span as if it were not there (was 278 s and out of memory)', async () => {
    const plain = await replay(join(dir, 'drive'), 'plain');
    const mixed = join(dir, 'mixed');
    mkdirSync(mixed);
    copyFileSync(driveFile, join(mixed, 'b_drive.mcap'));
    await oneMessageFile(mixed, 'a_early', '/chatter', 'std_msgs/msg/String', 1n, { data: 'hello from 1970' });
    const started = performance.now();
    const r = await replay(mixed, 'mixed-out');
    expect(performance.now() - started, 'wall time [ms]').to.be.below(60_000);
    expect(r.report.frames).to.deep.equal(plain.report.frames);
    expect(r.report.commands).to.deep.equal(plain.report.commands);
    expect(r.report.plans).to.deep.equal(plain.report.plans);
  });

  it('the sample drive replays without --params: raw camera topics absent, /compressed present → replayed from /compressed, said once per camera', async () => {
    const logger = new MemoryLogger();
    const withParams = await replay(join(dir, 'drive'), 'with-params');
    const r = await replayBag({
      bagPath: join(dir, 'drive'),
      engine,
      paramsFiles: [],
      outDir: join(dir, 'no-params'),
      seed: 1,
      samples: 1,
      latency: { kind: 'fixed', ms: 100 },
      version: 'test',
      logger,
    });
    expect(r.report.frames).to.deep.equal(withParams.report.frames);
    const notes = logger.records.filter(
      (x) =>
        x.level === 'warn' &&
        /is not in the bag, .*\/compressed is: replaying it \(cameras\.transports: compressed\)/.test(x.message),
    );
    expect(notes).to.have.length(4);
    expect(notes[0]!.message).to.match(
      /camera camera_cross_left_120fov: \/sensors\/camera\/camera_cross_left_120fov\/image_raw is not in the bag/,
    );
  });

  it(`an input topic jumping more than ${MAX_INPUT_GAP_S} s forward is refused naming the topic and the jump`, async () => {
    const gap = join(dir, 'gap');
    mkdirSync(gap);
    copyFileSync(driveFile, join(gap, 'a_drive.mcap'));
    const lateNs = START_NS + 7_200_000_000_000n; // 2 h after the drive started
    await oneMessageFile(gap, 'b_late', '/localization/odometry', 'nav_msgs/msg/Odometry', lateNs, {
      header: { stamp: nanosToStamp(lateNs), frame_id: 'map' },
      child_frame_id: 'base_link',
      pose: {
        pose: { position: { x: 0, y: 0, z: 0 }, orientation: { x: 0, y: 0, z: 0, w: 1 } },
        covariance: new Array(36).fill(0),
      },
      twist: {
        twist: { linear: { x: 0, y: 0, z: 0 }, angular: { x: 0, y: 0, z: 0 } },
        covariance: new Array(36).fill(0),
      },
    });
    let message = '';
    try {
      await replay(gap, 'gap-out');
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).to.match(
      /: \/localization\/odometry: log time jumps 71\d\d s forward \(at \d+ ns\); replay refuses gaps over 3600 s in its input topics/,
    );
  });
});
