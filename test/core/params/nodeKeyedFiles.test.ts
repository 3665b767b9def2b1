import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InProcessBus } from '../../../nodes/adapters/inprocess/bus.js';
import { InProcessNode } from '../../../nodes/adapters/inprocess/inProcessNode.js';
import { SteppingScheduler } from '../../../nodes/adapters/inprocess/virtualScheduler.js';
import { MemoryLogger } from '../../../nodes/core/logger.js';
import { makeDemoBundle } from '../../../nodes/syntheticBundles/index.js';
import { loadReplayParams } from '../../../nodes/replay/runner.js';
import { makeSampleBag } from '../../../nodes/replay/sampleBag.js';

// Loaded with import(), as test/cli/node.test.ts does, so UserError is one class for the CLI and this test.
const { runNode } = await import('../../../nodes/cli/nodeCommand.js');

const PLANNER_YAML = fileURLToPath(new URL('../../../config/ar1_planner.yaml', import.meta.url));
const WATCHDOG_YAML = fileURLToPath(new URL('../../../config/ar1_watchdog.yaml', import.meta.url));
const AR1 = fileURLToPath(new URL('../../../bin/ar1.js', import.meta.url));
const PLANNER_TOPICS = [
  '/sensors/camera/camera_cross_left_120fov/image_raw',
  '/sensors/camera/camera_front_wide_120fov/image_raw',
  '/sensors/camera/camera_cross_right_120fov/image_raw',
  '/sensors/camera/camera_front_tele_30fov/image_raw',
];

/** runNode on an in-process node standing in for rclnodejs: what it declared and what it logged. */
async function startNode(
  which: 'planner' | 'watchdog',
  rosArgs: string[],
): Promise<{ declared: Record<string, unknown>; warnings: string[] }> {
  const logger = new MemoryLogger();
  let declared: Record<string, unknown> | undefined;
  const createNode = async (o: { name: string }) =>
    Object.assign(new InProcessNode(new InProcessBus(new SteppingScheduler()), { name: o.name, logger }), {
      declareParameters: (v: Readonly<Record<string, unknown>>) => {
        declared = { ...v };
        return [];
      },
      // Stops the node as soon as it would wait for its shutdown: only the start-up matters here.
      onShutdown: () => undefined,
      addExitCheck: () => undefined,
    });
  // The planner stops at its (missing) bundle after declaring; the watchdog runs until its shutdown, which no one
  // asks for here (it lives on a virtual scheduler that never advances): its "running" line is the end of start-up.
  let settled = false;
  runNode(which, which === 'planner' ? { bundle: '/no/such/bundle' } : {}, ['--ros-args', ...rosArgs], {
    createNode,
  }).then(
    () => {
      settled = true;
    },
    () => {
      settled = true;
    },
  );
  const running = () => logger.records.some((r) => / running \[namespace=/.test(r.message));
  // Start-up imports modules (compiled on first use in a fresh clone): wait for it to settle, not for a count of turns.
  for (const end = performance.now() + 30_000; !settled && !running() && performance.now() < end;)
    await new Promise((r) => setTimeout(r, 5));
  expect(declared, 'parameters declared').to.not.equal(undefined);
  return { declared: declared!, warnings: logger.records.filter((r) => r.level === 'warn').map((r) => r.message) };
}

describe("params: the shipped files are keyed by node name, so neither node gets the other's keys", function () {
  this.timeout(60_000);
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'ar1-node-keyed-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));
  /** A copy of a shipped file with lines replaced. */
  const copyOf = (src: string, name: string, edits: Array<[RegExp, string]>): string => {
    let text = readFileSync(src, 'utf8');
    for (const [re, to] of edits) {
      expect(text, `${name}: ${re}`).to.match(re);
      text = text.replace(re, to);
    }
    const out = join(dir, name);
    writeFileSync(out, text);
    return out;
  };

  it('replay with the planner file, the watchdog file or both: each file reaches only its node; the watchdog keeps cameras.topics [] (under "/**" it got the planner\'s four and refused to start)', () => {
    for (const files of [
      [PLANNER_YAML],
      [WATCHDOG_YAML],
      [PLANNER_YAML, WATCHDOG_YAML],
      [WATCHDOG_YAML, PLANNER_YAML],
    ]) {
      const p = loadReplayParams(files, 1, 1);
      expect(p.planner.cameras.topics, files.join(' ')).to.deep.equal(PLANNER_TOPICS);
      expect(p.watchdog.cameras.topics, files.join(' ')).to.deep.equal([]);
    }
    // What a "/**" planner file did: its cameras.topics reached the watchdog, which refused to start.
    const wildcard = copyOf(PLANNER_YAML, 'wildcard_planner.yaml', [[/^ar1_planner:$/m, '/**:']]);
    expect(() => loadReplayParams([wildcard, WATCHDOG_YAML], 1, 1)).to.throw(
      /ar1_watchdog defaults: cameras\.types: expected 4 values/,
    );
  });

  it('ar1 replay --params config/ar1_planner.yaml --params config/ar1_watchdog.yaml replays the sample drive (exit 0)', async () => {
    makeDemoBundle(join(dir, 'bundle'));
    await makeSampleBag(join(dir, 'bag'), { durationS: 1, seed: 3 });
    const r = spawnSync(
      process.execPath,
      [
        AR1,
        'replay',
        '--bag',
        join(dir, 'bag'),
        '--bundle',
        join(dir, 'bundle'),
        '--providers',
        'cpu',
        '--params',
        PLANNER_YAML,
        '--params',
        WATCHDOG_YAML,
        '--out',
        join(dir, 'out'),
      ],
      { encoding: 'utf8', timeout: 60_000 },
    );
    expect(r.status, r.stderr).to.equal(0);
    expect(r.stdout).to.match(/^replayed /m);
  });

  it("a node started with its file gets the file's values, in any namespace, and no warning", async () => {
    const planner = copyOf(PLANNER_YAML, 'planner.yaml', [[/^( {4}seed:) 0 /m, '$1 7 ']]);
    const watchdog = copyOf(WATCHDOG_YAML, 'watchdog.yaml', [[/^( {4}control_rate_hz:) 50\.0 /m, '$1 25.0 ']]);
    for (const ns of [[], ['-r', '__ns:=/car1']]) {
      const p = await startNode('planner', ['--params-file', planner, ...ns]);
      expect(p.declared['seed']).to.equal(7);
      expect(p.warnings).to.deep.equal([]);
      const w = await startNode('watchdog', ['--params-file', watchdog, ...ns]);
      expect(w.declared['control_rate_hz']).to.equal(25);
      expect(w.warnings).to.deep.equal([]);
    }
    // Each file given to the other node as well (as replay does) changes nothing there.
    expect(
      (await startNode('watchdog', ['--params-file', planner, '--params-file', watchdog])).declared['cameras'],
    ).to.deep.include({ topics: [] });
    expect(
      (await startNode('planner', ['--params-file', watchdog, '--params-file', planner])).declared['control_rate_hz'],
    ).to.equal(50);
  });

  it('a node renamed with -r __node:=x does not get the ar1_planner: section, as in ROS, and warns once naming the file; a copy keyed x: applies', async () => {
    const planner = copyOf(PLANNER_YAML, 'planner7.yaml', [[/^( {4}seed:) 0 /m, '$1 7 ']]);
    const renamed = await startNode('planner', ['--params-file', planner, '-r', '__node:=x']);
    expect(renamed.declared['seed'], 'the schema default').to.equal(0);
    expect(renamed.warnings).to.deep.equal([
      `${planner}: its ar1_planner section is not applied to this node, renamed x (-r __node:=x), as in ROS; key a copy "x:" to apply it`,
    ]);
    const keyedX = copyOf(planner, 'planner_x.yaml', [[/^ar1_planner:$/m, 'x:']]);
    const own = await startNode('planner', ['--params-file', keyedX, '-r', '__node:=x']);
    expect(own.declared['seed']).to.equal(7);
    expect(own.warnings).to.deep.equal([]);
    const wd = await startNode('watchdog', ['--params-file', WATCHDOG_YAML, '-r', '__node:=wd2']);
    expect(wd.warnings).to.have.length(1);
    expect(wd.warnings[0]).to.match(
      /ar1_watchdog\.yaml: its ar1_watchdog section is not applied to this node, renamed wd2/,
    );
  });
});
