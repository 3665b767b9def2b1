/**
 * The soak: planner + watchdog + a fast fake engine in virtual time for N plan cycles (10 Hz), with seeded random
 * faults. Checks at every plan cycle: frame accounting (received = planned + dropped + waiting) and that the vehicle
 * command is not from the planner once a fault has lasted past its deadline. Run directly (a child with --expose-gc):
 *   node --expose-gc --import tsx test/faults/soak.ts <cycles> <seed>   → one JSON line on stdout
 */
import { silentLogger } from '../../nodes/core/logger.js';
import type { UnicycleCommand } from '../../nodes/core/msgs.js';
import { balanced, makeLoop, SOURCE_NAME } from './loop.js';
import { seededRandom } from '../../nodes/replay/sample/drive.js';

export type SoakFault = 'none' | 'engine_error' | 'engine_nan' | 'camera_stops' | 'odometry_stops';
const FAULTS: readonly SoakFault[] = ['none', 'none', 'engine_error', 'engine_nan', 'camera_stops', 'odometry_stops'];
/** Longest time [s] from a fault's start to braking (max_plan_age_s 0.5 s, camera_stale_s 0.3 s + a camera period, ticks). */
export const BRAKE_DEADLINE_S = 0.5 + 0.1 + 0.02;

export interface SoakResult {
  cycles: number;
  checks: number;
  violations: string[];
  faults: Record<SoakFault, number>;
  recoveries: number;
  plans: number;
  received: number;
  heap?: { warmUpBytes: number; endBytes: number; growth: number };
}

export async function runSoak(cycles: number, seed: number): Promise<SoakResult> {
  const rand = seededRandom(seed);
  const gc = (globalThis as { gc?: () => void }).gc;
  const loop = makeLoop({ record: false, latencyMs: 60, logger: () => silentLogger, watchdog: { auto_engage: true } });
  let last: UnicycleCommand | undefined;
  loop.bus.messages(loop.wp.topics.vehicle_command, 'ar1_msgs/msg/UnicycleCommand').subscribe((m) => {
    last = m as UnicycleCommand;
  });
  const startS = loop.nowS();
  const violations: string[] = [];
  const faults = Object.fromEntries(FAULTS.map((f) => [f, 0])) as Record<SoakFault, number>;
  let fault: SoakFault = 'none';
  let faultStartS = startS;
  let segmentEndS = startS + 5;
  let recoveries = 0;
  let checks = 0;
  /** Heap after gc at every 10 % of the run from 10 % on. */
  const heapSamples: number[] = [];
  const every = Math.max(1, Math.round(cycles * 0.1));
  const apply = (f: SoakFault) => {
    const w = loop.world;
    loop.engine.mode = f === 'engine_error' ? 'reject' : f === 'engine_nan' ? 'nan' : 'ok';
    w.cameras = w.cameras.map((_, c) => !(f === 'camera_stops' && c === 3));
    w.odometry = f !== 'odometry_stops';
  };
  for (let k = 1; k <= cycles; k++) {
    const t = startS + k * 0.1;
    await loop.runTo(t);
    checks++;
    const st = loop.planner.stats();
    if (!balanced(st))
      violations.push(
        `t=${t.toFixed(1)}: received ${st.received} != planned ${st.planned} + dropped + waiting ${st.waiting}`,
      );
    if (fault !== 'none' && t - faultStartS > BRAKE_DEADLINE_S && last && SOURCE_NAME[last.source] === 'planner') {
      violations.push(
        `t=${t.toFixed(1)}: ${fault} since ${(t - faultStartS).toFixed(2)} s but the vehicle command is from the planner`,
      );
    }
    if (violations.length > 20) break;
    // Operator: reset once the car has stopped with the fault gone.
    if (fault === 'none' && loop.watchdog.state === 'stopped' && t - faultStartS > 1) {
      loop.reset();
      recoveries++;
    }
    if (t >= segmentEndS) {
      fault = fault === 'none' ? FAULTS[Math.floor(rand() * FAULTS.length)]! : 'none';
      faults[fault]++;
      faultStartS = t;
      segmentEndS = t + (fault === 'none' ? 8 + rand() * 12 : 0.5 + rand() * 3);
      apply(fault);
    }
    if (gc && k % every === 0) {
      gc();
      gc();
      heapSamples.push(process.memoryUsage().heapUsed);
    }
  }
  let heap: SoakResult['heap'];
  if (gc && heapSamples.length >= 6) {
    // Median of the first three samples (10–30 %) vs the last three (80–100 %): one sample taken while a plan or a
    // fault's buffers happen to be alive moves a single point by a few %, not a trend.
    const med3 = (xs: number[]) => [...xs].sort((a, b) => a - b)[1]!;
    const warmUpBytes = med3(heapSamples.slice(0, 3));
    const endBytes = med3(heapSamples.slice(-3));
    heap = { warmUpBytes, endBytes, growth: endBytes / warmUpBytes - 1 };
  }
  const st = loop.planner.stats();
  await loop.close();
  return {
    cycles,
    checks,
    violations,
    faults,
    recoveries,
    plans: st.plans,
    received: st.received,
    ...(heap ? { heap } : {}),
  };
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/\\/g, '/'))) {
  const [cycles, seed] = process.argv.slice(2).map(Number);
  runSoak(cycles ?? 3600, seed ?? 1).then(
    (r) => process.stdout.write(JSON.stringify(r) + '\n'),
    (e) => {
      console.error(e);
      process.exit(1);
    },
  );
}
