import { expect } from 'chai';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openBag, BagError } from '../../nodes/adapters/mcap/index.js';
import { createOnnxEngine } from '../../nodes/adapters/onnxruntime/index.js';
import type { PlanningEngine } from '../../nodes/core/planningEngine.js';
import type { Trajectory, UnicycleCommand } from '../../nodes/core/msgs.js';
import { stampToNanos } from '../../nodes/core/time.js';
import { makeDemoBundle } from '../../nodes/syntheticBundles/index.js';
import { replayBag, type ReplayResult } from '../../nodes/replay/runner.js';
import { makeSampleBag } from '../../nodes/replay/sampleBag.js';

const SAMPLE_PARAMS = fileURLToPath(new URL('../../config/sample_bag.yaml', import.meta.url));

describe('replay/runner (sample drive + demo bundle, end to end)', function () {
  this.timeout(120000);
  let dir: string;
  let engine: PlanningEngine;
  let first: ReplayResult;
  const run = (
    out: string,
    latency: { kind: 'fixed'; ms: number } = { kind: 'fixed', ms: 100 },
    bag = join(dir, 'bag'),
    writeBag?: boolean,
  ) =>
    replayBag({
      bagPath: bag,
      engine,
      paramsFiles: [SAMPLE_PARAMS],
      outDir: join(dir, out),
      seed: 3,
      samples: 2,
      latency,
      version: 'test',
      ...(writeBag === undefined ? {} : { writeBag }),
    });

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ar1-replay-'));
    makeDemoBundle(join(dir, 'bundle'));
    await makeSampleBag(join(dir, 'bag'), { durationS: 6, seed: 2 });
    engine = await createOnnxEngine({ bundleDir: join(dir, 'bundle'), executionProviders: ['cpu'] });
    first = await run('a');
  });
  after(async () => {
    await engine?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('accounts for every camera frame: received = planned + dropped (by reason)', () => {
    const f = first.report.frames;
    expect(f.received).to.equal(4 * 60 + 4); // 10 Hz × 6 s × 4 cameras, both ends included
    const dropped = Object.values(f.dropped).reduce((a, b) => a + b, 0);
    expect(f.planned + dropped).to.equal(f.received);
    expect(f.planned).to.be.greaterThan(f.received / 2);
    expect(first.report.plans.published).to.be.greaterThan(20);
    expect(first.report.plans.errors).to.equal(0);
  });

  it('engages by itself on the first healthy plan and drives on planner commands', () => {
    const w = first.report.watchdog;
    expect(w.transitions[0]).to.include({ from: 'disengaged', to: 'nominal' });
    expect(first.report.commands.planner).to.be.greaterThan(100);
    expect(first.report.latency_model).to.deep.equal({ mode: 'fixed', ms: 100 });
  });

  it("judges every published plan's reasoning against its trajectory: the demo network says what it does", () => {
    const c = first.report.consistency!;
    expect(c.plans).to.equal(first.report.plans.published);
    expect(c.consistent + c.inconsistent + c.not_assessable).to.equal(c.plans);
    expect(c.inconsistent_plans).to.deep.equal([]);
    expect(c.rate).to.equal(1);
  });

  it('scores plans against the odometry at 1 s and 3 s (the 6 s bag is too short for 6.4 s)', () => {
    const m = first.report.metrics;
    expect(m.plans_scored['1']).to.be.greaterThan(10);
    expect(m.ade['1']).to.be.a('number').and.to.be.within(0, 5);
    expect(m.min_ade['1']!).to.be.at.most(m.ade['1']!);
    expect(m.plans_scored['6.4']).to.equal(0);
    expect(m.ade['6.4']).to.equal(null);
  });

  it('publishes each plan at t0 + the modelled latency, stamped with t0', async () => {
    const bag = await openBag(first.files.bag!.replace(/\/[^/]+$/, ''));
    const gaps: bigint[] = [];
    const sources = new Set<number>();
    try {
      for await (const m of bag.messages({ topics: ['/ar1/trajectory', '/vehicle/unicycle_command'], decode: true })) {
        if (m.topic === '/ar1/trajectory')
          gaps.push(m.logTimeNs - stampToNanos((m.message as Trajectory).header.stamp));
        else sources.add((m.message as UnicycleCommand).source);
      }
    } finally {
      await bag.close();
    }
    expect(gaps.length).to.equal(first.report.plans.published);
    for (const g of gaps) expect(Number(g)).to.be.closeTo(100e6, 1e3); // 100 ms, to the µs
    expect([...sources]).to.include(0);
  });

  it('is deterministic: same bag, bundle, parameters and seed give a byte-identical bag and report.json', async () => {
    const second = await run('b');
    expect(readFileSync(second.files.report)).to.deep.equal(readFileSync(first.files.report));
    expect(readFileSync(second.files.bag!)).to.deep.equal(readFileSync(first.files.bag!));
    expect(readFileSync(first.files.html, 'utf8')).to.match(/^<!doctype html>/);
  });

  it('without the output bag (writeBag false): no bag written, and a byte-identical report.json', async () => {
    const reportOnly = await run('report-only', undefined, undefined, false);
    expect(reportOnly.files.bag).to.equal(undefined);
    expect(existsSync(join(dir, 'report-only', 'bag'))).to.equal(false);
    expect(readFileSync(reportOnly.files.report)).to.deep.equal(readFileSync(first.files.report));
    // Into a folder a full replay wrote: its bag goes, so no bag lies beside reports it does not belong to.
    const full = await run('stale');
    expect(existsSync(full.files.bag!)).to.equal(true);
    await run('stale', undefined, undefined, false);
    expect(existsSync(join(dir, 'stale', 'bag'))).to.equal(false);
  });

  it('a slower modelled latency changes what the vehicle gets: plans aging past max_plan_age_s make it brake', async () => {
    // 400 ms per plan: each plan is 0.4 s old when it arrives (healthy, so the watchdog engages), then ages
    // past max_plan_age_s 0.5 s before the next one arrives.
    const slow = await run('slow', { kind: 'fixed', ms: 400 });
    expect(slow.report.latency_model.ms).to.equal(400);
    expect(slow.report.watchdog.transitions[0]).to.include({ from: 'disengaged', to: 'nominal' });
    expect(slow.report.watchdog.transitions.map((t) => t.to)).to.include('fallback');
    expect(slow.report.watchdog.transitions.find((t) => t.to === 'fallback')!.reason).to.match(/plan age|no plan/i);
    expect(slow.report.commands.planner).to.be.lessThan(first.report.commands.planner);
  });

  it('never engages when no plan is ever fresh enough (700 ms per plan > max_plan_age_s)', async () => {
    const never = await run('never', { kind: 'fixed', ms: 700 });
    expect(never.report.watchdog.transitions).to.deep.equal([]);
    expect(never.report.watchdog.final_state).to.equal('disengaged');
    expect(never.report.commands.planner).to.equal(0);
    expect(never.report.plans.published).to.be.greaterThan(0);
  });

  it('refuses a bag without the input topics, naming what is missing and what is there', async () => {
    const only = join(dir, 'only_odom');
    const { createBagWriter } = await import('../../nodes/adapters/mcap/index.js');
    const w = await createBagWriter(only);
    await w.addTopic('/localization/odometry', 'nav_msgs/msg/Odometry');
    await w.write('/localization/odometry', 1_000_000_000n, {
      header: { stamp: { sec: 1, nanosec: 0 }, frame_id: 'odom' },
      child_frame_id: 'base_link',
      pose: {
        pose: { position: { x: 0, y: 0, z: 0 }, orientation: { x: 0, y: 0, z: 0, w: 1 } },
        covariance: new Float64Array(36),
      },
      twist: {
        twist: { linear: { x: 0, y: 0, z: 0 }, angular: { x: 0, y: 0, z: 0 } },
        covariance: new Float64Array(36),
      },
    });
    await w.close();
    let err: unknown;
    try {
      await run('none', undefined, only);
    } catch (e) {
      err = e;
    }
    expect(err).to.be.instanceOf(BagError);
    expect((err as Error).message).to.match(
      /missing input topics \/sensors\/camera\/camera_cross_left_120fov\/image_raw\/compressed, .*; the bag has \/localization\/odometry/,
    );
  });

  it('refuses a parameter file with a typo before opening the bag', async () => {
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'ar1_watchdog:\n  ros__parameters:\n    max_plan_age: 0.5\n');
    let err: unknown;
    try {
      await replayBag({
        bagPath: join(dir, 'missing'),
        engine,
        paramsFiles: [bad],
        outDir: join(dir, 'x'),
        seed: 0,
        samples: 1,
        latency: { kind: 'fixed', ms: 100 },
        version: 't',
      });
    } catch (e) {
      err = e;
    }
    expect((err as Error).message).to.match(/bad\.yaml: max_plan_age: unknown parameter for ar1_watchdog/);
  });
});
