/**
 * The nodes on a real ROS 2 graph (`npm run bench:ros2`, and a row of `npm run bench` where ROS 2 is sourced):
 * planner and watchdog as processes, four 1920×1080 JPEG cameras at 10 Hz and odometry at 50 Hz from this
 * process, engaged, for 60 s (15 s with --quick). Measures what the vehicle sees:
 * - /ar1/command and /vehicle/unicycle_command: rate, largest gap between stamps and between arrivals, watchdog
 *   states (goal: no gap over command_gap_s, never out of nominal);
 * - t0 → trajectory: arrival of /ar1/trajectory here minus its t0 stamp (same machine, same clock);
 * - kill -9 of the planner → first fallback command on /vehicle/unicycle_command (stamps);
 * - SIGTERM → exit, for the watchdog and the planner.
 * Wall-clock time is what this measures; nothing here is a test.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  NodeProcess,
  REPO,
  SOURCE,
  STATE,
  closeGraph,
  graphNode,
  isolateGraph,
  record,
  ros2Unavailable,
  sleep,
  stampS,
  startDrive,
  type Header,
} from '../test/ros2/graph.js';
import { percentile } from './stats.js';

export interface Ros2GraphFigures {
  durationS: number;
  plannerCommandHz: number;
  vehicleCommandHz: number;
  plannerCommandMaxGapMs: { stamps: number; arrivals: number };
  vehicleCommandMaxGapMs: { stamps: number; arrivals: number };
  gapsOverCommandGap: number;
  leftNominal: string[];
  trajectories: number;
  t0ToTrajectoryMs: { p50: number; p99: number; max: number };
  killToFallbackMs: number;
  sigtermExitMs: { watchdog: number; planner: number };
}

const COMMAND_GAP_S = 0.1;

function gaps(msgs: ReadonlyArray<{ msg: { header: Header }; atMs: number }>): {
  stamps: number;
  arrivals: number;
  over: number;
} {
  let stamps = 0,
    arrivals = 0,
    over = 0;
  for (let i = 1; i < msgs.length; i++) {
    const g = stampS(msgs[i]!.msg.header.stamp) - stampS(msgs[i - 1]!.msg.header.stamp);
    stamps = Math.max(stamps, g);
    arrivals = Math.max(arrivals, msgs[i]!.atMs - msgs[i - 1]!.atMs);
    if (g > COMMAND_GAP_S) over++;
  }
  return { stamps: stamps * 1000, arrivals, over };
}

export async function benchRos2Graph(o: {
  durationS: number;
  log: (s: string) => void;
}): Promise<Ros2GraphFigures | string> {
  const why = ros2Unavailable();
  if (why) return why;
  isolateGraph();
  const dir = mkdtempSync(join(tmpdir(), 'ar1-bench-ros2-'));
  const bundle = join(dir, 'bundle');
  const made = spawnSync(
    process.execPath,
    [join(REPO, 'bin', 'ar1.js'), 'model', 'make-demo', bundle, '--image-size', '1080x1920'],
    { encoding: 'utf8' },
  );
  if (made.status !== 0) throw new Error(`ar1 model make-demo: ${made.stderr}`);
  const node = await graphNode();
  const trajectories = await record<{ header: Header }>('ar1_msgs/msg/Trajectory', '/ar1/trajectory');
  const d = await startDrive({ bundle, vehicle: { speedMps: 5, obeyCommands: false } });
  try {
    const t0 = performance.now();
    const traj0 = trajectories.count;
    await sleep(o.durationS * 1000);
    const t1 = performance.now();
    const within = <M>(r: { messages: Array<{ msg: M; atMs: number }> }) =>
      r.messages.filter((m) => m.atMs >= t0 && m.atMs <= t1);
    const plannerCmds = within(d.plannerCommands);
    const vehicleCmds = within(d.vehicle);
    const states = within(d.state)
      .map((m) => m.msg)
      .filter((s) => s.state !== STATE.nominal);
    const pg = gaps(plannerCmds);
    const vg = gaps(vehicleCmds);
    // Arrival times are performance.now() [ms]; stamps are ROS (system) time: one offset converts between them.
    const offsetMs = Number(node.now().nanoseconds) / 1e6 - performance.now();
    const latencies = trajectories.messages
      .slice(traj0)
      .map((m) => m.atMs + offsetMs - stampS(m.msg.header.stamp) * 1000);
    const durationS = (t1 - t0) / 1000;

    // Kill the planner (only measured from NOMINAL): the first fallback command's stamp minus the last planner
    // command's stamp.
    const nominalAtKill = d.state.last?.state === STATE.nominal;
    const lastPlanner = d.plannerCommands.last!;
    d.planner.child.kill('SIGKILL');
    await d.planner.exit;
    let firstFallback: { header: Header } | undefined;
    for (let i = 0; i < 100 && !firstFallback; i++) {
      await sleep(20);
      const all = d.vehicle.messages.map((m) => m.msg);
      const k = all.findLastIndex((c) => c.source === SOURCE.planner);
      firstFallback = all.slice(k + 1).find((c) => c.source === SOURCE.fallback);
    }
    const killToFallbackMs =
      firstFallback && nominalAtKill
        ? (stampS(firstFallback.header.stamp) - stampS(lastPlanner.header.stamp)) * 1000
        : Number.NaN;

    // SIGTERM: a fresh planner for its own figure.
    const t2 = performance.now();
    d.watchdog.child.kill('SIGTERM');
    await d.watchdog.exit;
    const watchdogExitMs = performance.now() - t2;
    const planner = NodeProcess.planner(bundle);
    await planner.waitForOutput(/running/, 60);
    await sleep(2000);
    const t3 = performance.now();
    planner.child.kill('SIGTERM');
    await planner.exit;
    const plannerExitMs = performance.now() - t3;

    const f: Ros2GraphFigures = {
      durationS,
      plannerCommandHz: plannerCmds.length / durationS,
      vehicleCommandHz: vehicleCmds.length / durationS,
      plannerCommandMaxGapMs: { stamps: pg.stamps, arrivals: pg.arrivals },
      vehicleCommandMaxGapMs: { stamps: vg.stamps, arrivals: vg.arrivals },
      gapsOverCommandGap: pg.over + vg.over,
      leftNominal: [...new Set(states.map((s) => `${s.state_name}: ${s.reasons.join('; ')}`))],
      trajectories: latencies.length,
      t0ToTrajectoryMs: { p50: percentile(latencies, 50), p99: percentile(latencies, 99), max: Math.max(...latencies) },
      killToFallbackMs,
      sigtermExitMs: { watchdog: watchdogExitMs, planner: plannerExitMs },
    };
    o.log(
      `[ros2 graph] ${durationS.toFixed(1)} s engaged, 4 × 1080p JPEG @ 10 Hz + odometry @ 50 Hz: /ar1/command ${f.plannerCommandHz.toFixed(1)} Hz, ` +
        `max gap ${f.plannerCommandMaxGapMs.stamps.toFixed(1)} ms (stamps) / ${f.plannerCommandMaxGapMs.arrivals.toFixed(1)} ms (arrivals); ` +
        `/vehicle/unicycle_command ${f.vehicleCommandHz.toFixed(1)} Hz, max gap ${f.vehicleCommandMaxGapMs.stamps.toFixed(1)} / ${f.vehicleCommandMaxGapMs.arrivals.toFixed(1)} ms; ` +
        `gaps over command_gap_s: ${f.gapsOverCommandGap}; left nominal: ${f.leftNominal.length ? f.leftNominal.join(' | ') : 'never'}; ` +
        `t0 → trajectory p50 ${f.t0ToTrajectoryMs.p50.toFixed(1)} p99 ${f.t0ToTrajectoryMs.p99.toFixed(1)} max ${f.t0ToTrajectoryMs.max.toFixed(1)} ms (${f.trajectories} plans); ` +
        `kill -9 planner → first fallback ${f.killToFallbackMs.toFixed(1)} ms; SIGTERM → exit watchdog ${watchdogExitMs.toFixed(0)} ms, planner ${plannerExitMs.toFixed(0)} ms`,
    );
    await planner.stop();
    return f;
  } finally {
    await d.close();
    trajectories.close();
    await closeGraph();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const quick = process.argv.includes('--quick');
  const r = await benchRos2Graph({ durationS: quick ? 15 : 60, log: (s) => console.log(s) });
  if (typeof r === 'string') {
    console.error(`bench:ros2: cannot run: ${r}`);
    process.exit(2);
  }
  const ok = r.gapsOverCommandGap === 0 && r.leftNominal.length === 0;
  console.log(
    `goal: no command gap over ${COMMAND_GAP_S * 1000} ms and never out of nominal in ${r.durationS.toFixed(0)} s: ${ok ? 'pass' : 'FAIL'}`,
  );
  process.exit(0);
}
