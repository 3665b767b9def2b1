import { expect } from 'chai';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openBag } from '../../nodes/adapters/mcap/index.js';
import { createOnnxEngine, type OnnxEngine } from '../../nodes/adapters/onnxruntime/index.js';
import type { PlanningEngine } from '../../nodes/core/planningEngine.js';
import { UserError } from '../../nodes/core/errors.js';
import { makeDemoBundle } from '../../nodes/syntheticBundles/index.js';
import { loadScenario, parseScenario } from '../../nodes/sim/scenario.js';
import { GROUND_TRUTH_TOPIC, runScenario, type SimResult } from '../../nodes/sim/runner.js';
import { runSimCli, type SimCliOptions } from '../../nodes/cli/simCommand.js';

const SCENARIOS = fileURLToPath(new URL('../../config/scenarios/', import.meta.url));
const FIXED = { kind: 'fixed', ms: 100 } as const;

/** A short straight run with a planner crash: enough for determinism and the outputs, quick to simulate. */
const SHORT = `name: short
duration_s: 6
road: { width_m: 7.2, segments: [{ kind: straight, length_m: 150 }] }
route: { length_m: 100 }
ego: { speed_mps: 8 }
obstacles: [{ kind: barrier, at_m: 90 }]
faults: [{ kind: planner_crash, at_s: 4 }]
pass: { no_collision: true, reaches_state: fallback }
`;

describe('sim: closed loop with the demo model (real planner + watchdog, virtual time)', function () {
  this.timeout(120000);
  let dir: string;
  let engine: PlanningEngine;
  const run = (file: string, out: string, latency: { kind: 'fixed'; ms: number } = FIXED) =>
    runScenario({
      loaded: loadScenario(join(SCENARIOS, file)),
      engine,
      paramsFiles: [],
      outDir: join(dir, out),
      seed: 0,
      latency,
      version: 'test',
    });

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ar1-sim-'));
    makeDemoBundle(join(dir, 'bundle'));
    engine = await createOnnxEngine({ bundleDir: join(dir, 'bundle'), executionProviders: ['cpu'] });
  });
  after(async () => {
    await engine?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the curve: the demo model follows the road through it without leaving it, and passes', async () => {
    const r = await run('curve.yaml', 'curve');
    const m = r.report.metrics;
    expect(m.offroad_s).to.equal(0);
    expect(m.progress_m).to.be.greaterThan(200);
    expect(
      Math.max(...r.series.filter((p) => p.t > 2).map((p) => Math.abs(p.lateral))),
      'stays within 2 m of the centreline',
    ).to.be.lessThan(2);
    expect(m.max_abs_lat_accel_mps2, 'it did turn (80 m radius at ~10 m/s)').to.be.greaterThan(1);
    expect(r.report.reasoning.some((x) => /curv/.test(x.text))).to.equal(true);
    expect(r.report.verdict, JSON.stringify(r.report.checks)).to.equal('pass');
    expect(r.report.watchdog.final_state).to.equal('nominal');
    // Reasoning–action consistency in the sim report: every judged plan says what it does.
    const c = r.report.consistency;
    expect(c.plans, 'a verdict for every published reasoning').to.equal(
      r.report.reasoning.reduce((n, x) => n + x.count, 0),
    );
    expect(c.inconsistent, JSON.stringify(c.inconsistent_plans.slice(0, 2))).to.equal(0);
    expect(c.rate).to.equal(1);
  });

  it('the barrier stop: stops before the red barrier without touching it, and says why', async () => {
    const r = await run('barrier_stop.yaml', 'barrier');
    const m = r.report.metrics;
    expect(m.collision).to.equal(false);
    expect(m.stopped_before_obstacle).to.equal(true);
    expect(m.min_distance_m).to.be.greaterThan(1).and.lessThan(8);
    expect(m.final_speed_mps).to.equal(0);
    const texts = r.report.reasoning.map((x) => x.text);
    expect(texts).to.include.members(['slow down for the barrier ahead', 'stop for the barrier ahead']);
    const stopAt = r.series.find((p) => p.t > 2 && p.v === 0)!.t;
    expect(
      r.report.reasoning.find((x) => x.text === 'stop for the barrier ahead')!.first_s,
      'it says so before it stops',
    ).to.be.lessThan(stopAt);
    expect(r.report.verdict, JSON.stringify(r.report.checks)).to.equal('pass');
    expect(r.report.consistency.inconsistent, 'slowing and stopping for the barrier, said and done').to.equal(0);
    expect(r.report.consistency.consistent).to.be.greaterThan(0);
  });

  it('a slow model visibly degrades the drive: at 300 ms per plan the plan age passes 0.5 s and the watchdog brakes to a stop', async () => {
    const r = await run('curve.yaml', 'slow', { kind: 'fixed', ms: 300 });
    expect(r.report.watchdog.transitions.map((t) => t.to)).to.include('fallback');
    expect(r.report.watchdog.transitions.find((t) => t.to === 'fallback')!.reason).to.match(
      /plan age .* exceeds max_plan_age_s/,
    );
    expect(r.report.metrics.final_speed_mps).to.equal(0);
    expect(r.report.metrics.progress_m).to.be.lessThan(100);
    expect(r.report.verdict).to.equal('fail');
  });

  it('each fault scenario: the watchdog brakes to a stop, on the road, and the scenario passes', async () => {
    const faults = readdirSync(SCENARIOS).filter((f) => f.startsWith('fault_'));
    expect(faults.length).to.equal(7);
    for (const f of faults) {
      const r = await runScenario({
        loaded: loadScenario(join(SCENARIOS, f)),
        engine,
        paramsFiles: [],
        outDir: join(dir, f),
        seed: 0,
        latency: FIXED,
        version: 'test',
        write: false,
      });
      expect(r.report.verdict, `${f}: ${JSON.stringify(r.report.checks.filter((c) => !c.pass))}`).to.equal('pass');
      expect(r.report.metrics.final_speed_mps, f).to.equal(0);
      const fault = r.report.faults[0]!.at_s;
      const fallback = r.report.watchdog.transitions.find((t) => t.to === 'fallback')!;
      expect(fallback.time_s - fault, `${f}: braking within 0.6 s of the fault`).to.be.within(0, 0.6);
    }
  });

  it("the planner's frames go into the engine's frame store once on receipt: the plans copy no frame bytes", async () => {
    const onnx = engine as PlanningEngine & OnnxEngine;
    const before = onnx.transportStats;
    const admitted = onnx.ringStats.admitted;
    await runScenario({
      loaded: parseScenario(SHORT, 'short.yaml'),
      engine,
      paramsFiles: [],
      outDir: join(dir, 'store'),
      seed: 0,
      latency: FIXED,
      version: 'test',
      write: false,
    });
    const after = onnx.transportStats;
    const plans = after.plans - before.plans;
    expect(plans).to.be.greaterThan(10);
    expect(after.planCopiedBytes - before.planCopiedBytes, 'frame bytes copied by plan()').to.equal(0);
    expect(after.ringFrames - before.ringFrames).to.equal(plans * 16);
    expect(onnx.ringStats.admitted - admitted, 'frames written into the store').to.be.greaterThan(0);
  });

  it('with a fixed latency the outputs are byte-identical across runs; the bag holds every topic and the ground truth', async () => {
    const loaded = parseScenario(SHORT, 'short.yaml');
    const go = (out: string, frames = false): Promise<SimResult> =>
      runScenario({
        loaded,
        engine,
        paramsFiles: [],
        outDir: join(dir, out),
        seed: 0,
        latency: FIXED,
        version: 'test',
        frames,
      });
    const a = await go('det-a');
    await go('det-b');
    const files = (root: string): string[] =>
      readdirSync(root, { recursive: true })
        .map(String)
        .filter((f) => statSync(join(root, f)).isFile())
        .sort();
    expect(files(join(dir, 'det-a'))).to.deep.equal([
      'bag/bag_0.mcap',
      'bag/metadata.yaml',
      'report.html',
      'report.json',
    ]);
    for (const f of files(join(dir, 'det-a')))
      expect(readFileSync(join(dir, 'det-a', f)).equals(readFileSync(join(dir, 'det-b', f))), f).to.equal(true);
    const bag = await openBag(a.files!.bag);
    const topics = new Map((await bag.info()).topics.map((t) => [t.topic, t.messageCount]));
    await bag.close();
    for (const t of [
      '/clock',
      '/localization/odometry',
      GROUND_TRUTH_TOPIC,
      '/vehicle/unicycle_command',
      '/ar1/trajectory',
      '/ar1/reasoning',
      '/ar1/command',
      '/ar1/safety_state',
      '/diagnostics',
    ]) {
      expect(topics.get(t) ?? 0, t).to.be.greaterThan(0);
    }
    expect(topics.get('/clock')).to.equal(601);
    expect(topics.get(GROUND_TRUTH_TOPIC)).to.equal(301);
    expect(
      [...topics.keys()].some((t) => t.startsWith('/sensors/camera')),
      'camera frames only with frames: true',
    ).to.equal(false);
    const withFrames = await go('det-frames', true);
    const fb = await openBag(withFrames.files!.bag);
    const ft = new Map((await fb.info()).topics.map((t) => [t.topic, t.messageCount]));
    await fb.close();
    expect(ft.get('/sensors/camera/camera_front_wide_120fov/image_raw')).to.equal(61);
    const report = JSON.parse(readFileSync(a.files!.report, 'utf8')) as SimResult['report'];
    expect(report.watchdog.transitions.map((t) => t.to)).to.deep.equal(['nominal', 'fallback']);
    const html = readFileSync(a.files!.html, 'utf8');
    for (const part of [
      "Bird's-eye view",
      'Metrics over time',
      'Cameras at key moments',
      'Watchdog timeline',
      'data:image/png;base64,',
    ])
      expect(html).to.include(part);
  });
});

describe('ar1 sim (CLI): exit status from the verdicts; bad input before the model loads', function () {
  this.timeout(120000);
  let dir: string;
  const noModel = async (): Promise<PlanningEngine> => {
    throw new Error('the model must not load for a bad input');
  };
  const opts = (over: Partial<SimCliOptions>): SimCliOptions => ({
    params: [],
    out: join(dir, 'out'),
    seed: '0',
    latency: '100',
    bundle: join(dir, 'bundle'),
    providers: 'cpu',
    json: true,
    logLevel: 'error',
    ...over,
  });
  let stdout: string;
  const write = process.stdout.write.bind(process.stdout);
  const capture = async (f: () => Promise<number>): Promise<number> => {
    stdout = '';
    process.stdout.write = ((s: string) => {
      stdout += s;
      return true;
    }) as typeof process.stdout.write;
    try {
      return await f();
    } finally {
      process.stdout.write = write;
    }
  };

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'ar1-simcli-'));
    makeDemoBundle(join(dir, 'bundle'));
    writeFileSync(join(dir, 'short.yaml'), SHORT);
    writeFileSync(
      join(dir, 'fails.yaml'),
      SHORT.replace('pass: { no_collision: true, reaches_state: fallback }', 'pass: { min_progress_m: 99 }').replace(
        'name: short',
        'name: fails',
      ),
    );
    writeFileSync(join(dir, 'bad.yaml'), SHORT.replace('speed_mps: 8', 'speed_mps: -3'));
    writeFileSync(
      join(dir, 'jpeg.yaml'),
      'ar1_planner:\n  ros__parameters:\n    cameras:\n      transports: [compressed, compressed, compressed, compressed]\n',
    );
    writeFileSync(
      join(dir, 'cam.yaml'),
      SHORT.replace(
        'faults: [{ kind: planner_crash, at_s: 4 }]',
        'faults: [{ kind: camera_dropout, at_s: 1, camera: rear }]',
      ),
    );
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('exit 0 when every scenario passes, 1 when one fails; --json lists the verdicts', async () => {
    expect(await capture(() => runSimCli(opts({ scenario: [join(dir, 'short.yaml')] })))).to.equal(0);
    expect(JSON.parse(stdout).scenarios[0].verdict).to.equal('pass');
    expect(
      await capture(() => runSimCli(opts({ scenario: [join(dir, 'short.yaml'), join(dir, 'fails.yaml')] }))),
    ).to.equal(1);
    const s = JSON.parse(stdout) as { scenarios: Array<{ name: string; verdict: string; failed_checks: string[] }> };
    expect(s.scenarios.map((x) => [x.name, x.verdict, x.failed_checks])).to.deep.equal([
      ['short', 'pass', []],
      ['fails', 'fail', ['min_progress_m']],
    ]);
    expect(readdirSync(join(dir, 'out')).sort()).to.deep.equal(['fails', 'short', 'summary.json']);
  });

  it('an invalid scenario is one line naming the key (exit 2), before the model loads, even after a good one', async () => {
    const e = await runSimCli(opts({ scenario: [join(dir, 'short.yaml'), join(dir, 'bad.yaml')] }), noModel).catch(
      (x: unknown) => x,
    );
    expect(e).to.be.instanceOf(UserError);
    expect((e as UserError).exitCode).to.equal(2);
    expect((e as UserError).message).to.match(/bad\.yaml: ego\.speed_mps: expected a value >= 0, got number -3$/);
  });

  it('a fault naming an unknown camera is refused before the run (and before the model loads)', async () => {
    const e = await runSimCli(opts({ scenario: [join(dir, 'cam.yaml')] }), noModel).catch((x: unknown) => x);
    expect(e).to.be.instanceOf(UserError);
    expect((e as UserError).message).to.match(/cam\.yaml: faults\[0\]\.camera: expected one of .* got "rear"$/);
  });

  it('no scenario, a bad --latency or --seed, JPEG camera parameters: one line, exit 2, before the model loads', async () => {
    const cases: Array<[Partial<SimCliOptions>, RegExp]> = [
      [{ scenario: [] }, /^no scenarios/],
      [{ scenario: [join(dir, 'short.yaml')], latency: 'soon' }, /^--latency: expected milliseconds/],
      [{ scenario: [join(dir, 'short.yaml')], seed: '-1' }, /^--seed: expected an integer >= 0/],
      [
        { scenario: [join(dir, 'short.yaml')], params: [join(dir, 'jpeg.yaml')] },
        /^cameras\.transports\[0\]: the simulator publishes raw sensor_msgs\/Image frames; expected raw, got compressed$/,
      ],
    ];
    for (const [over, re] of cases) {
      const e = await runSimCli(opts(over), noModel).catch((x: unknown) => x);
      expect(e, String(re)).to.be.instanceOf(UserError);
      expect((e as UserError).exitCode).to.equal(2);
      expect((e as UserError).message).to.match(re);
    }
  });
});
