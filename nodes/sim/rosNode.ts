/**
 * `ar1 node sim`: the simulator as a ROS 2 node for hardware-in-the-loop rigs without a simulator. It publishes /clock,
 * odometry, the four cameras (raw, re-rendered from the simulated pose) and the ground truth through the rclnodejs
 * adapter, paced by the steady clock, and drives its vehicle model with /vehicle/unicycle_command; the real
 * ar1_planner and ar1_watchdog run as their own processes with use_sim_time:=true. At the end of the scenario it logs
 * the metrics and the verdict and exits 0 (pass) or 1 (fail).
 */
import { fileURLToPath } from 'node:url';
import { lastValueFrom } from 'rxjs';
import { UserError } from '../core/errors.js';
import { LOG_LEVELS } from '../core/logger.js';
import { QOS_COMMAND } from '../core/qos.js';
import { loadParameters, readSchema } from '../core/params/loadParameters.js';
import { parameterOverridesFromArgs } from '../core/params/fromArgs.js';
import { parseRosArgs } from '../core/params/rosArgs.js';
import type { RosNode } from '../core/transport.js';
import type { NodeCommandDeps, NodeCommandOptions } from '../cli/command.js';
import { checkThresholds, type Check, type MetricsJson } from './metrics.js';
import { simCameras } from './runner.js';
import { checkFaultsApply, loadScenario, type LoadedScenario, type WatchdogStateName } from './scenario.js';
import { PHYSICS_DT_S, Simulator } from './simulator.js';
import type { SimNodeParams } from './params.generated.js';

export const SIM_NODE_NAME = 'ar1_sim';
export const SIM_SCHEMA_PATH = fileURLToPath(new URL('../../config/ar1_sim.schema.json', import.meta.url));

/** Faults only the in-process loop can inject: on a graph the planner is another process. */
const PLANNER_FAULTS = new Set(['planner_crash', 'planner_hang', 'nonfinite_plan']);
const STATE_NAMES: readonly WatchdogStateName[] = ['disengaged', 'nominal', 'fallback', 'stopped'];

/** The scenario checked for the node form: sensor and clock faults only, one topic per camera it renders. */
export function checkForNode(l: LoadedScenario, p: SimNodeParams): void {
  l.scenario.faults.forEach((f, i) => {
    if (PLANNER_FAULTS.has(f.kind))
      throw new UserError(
        `${l.file}: faults[${i}].kind: ${f.kind} cannot be injected by ar1 node sim (the planner is another process); expected camera_dropout, stale_odometry or clock_backward, or run it with ar1 sim`,
      );
  });
  if (p.cameras.topics.length !== p.cameras.names.length) {
    throw new UserError(
      `cameras.topics: expected ${p.cameras.names.length} topics (one per cameras.names), got ${p.cameras.topics.length}`,
    );
  }
  simCameras(p.cameras.names);
  checkFaultsApply(l, p.cameras.names);
}

export interface SimNodeHandle {
  readonly simulator: Simulator;
  /** Set when the scenario's time is up. */
  readonly result: { metrics: MetricsJson; checks: Check[]; verdict: 'pass' | 'fail' } | undefined;
  stop(): void;
}

/** Starts the simulator on `ros`, stepping on its steady scheduler; logs the verdict at the end. */
export function startSimNode(ros: RosNode, p: SimNodeParams, loaded: LoadedScenario): SimNodeHandle {
  const sc = loaded.scenario;
  let wd: WatchdogStateName = 'disengaged';
  const stateSub = ros.subscribe('ar1_msgs/msg/SafetyState', p.topics.safety_state, QOS_COMMAND).subscribe((m) => {
    if ((STATE_NAMES as readonly string[]).includes(m.state_name)) wd = m.state_name as WatchdogStateName;
  });
  const sim = new Simulator({
    loaded,
    cameras: simCameras(p.cameras.names),
    width: p.image_width,
    height: p.image_height,
    startS: p.start_time_s,
    render: p.render,
    topics: {
      cameras: p.cameras.topics,
      odometry: p.topics.odometry,
      vehicleCommand: p.topics.vehicle_command,
      clock: p.topics.clock,
      groundTruth: p.topics.ground_truth,
    },
    watchdogState: () => wd,
    onStateChange: (tS, from, to) => ros.logger.info(`${ros.name}: watchdog ${from} → ${to} at ${tS.toFixed(2)} s`),
  });
  const scheduler = ros.steadyScheduler ?? ros.scheduler;
  const periodMs = (PHYSICS_DT_S * 1000) / p.real_time_factor;
  sim.start(ros, scheduler, periodMs);
  let result: SimNodeHandle['result'];
  const finish = scheduler.schedule(
    () => {
      sim.stop();
      stateSub.unsubscribe();
      const metrics = sim.metrics.result();
      const checks = checkThresholds(metrics, sc.pass, sim.reached, wd);
      result = { metrics, checks, verdict: checks.every((c) => c.pass) ? 'pass' : 'fail' };
      const failed = checks.filter((c) => !c.pass).map((c) => `${c.name} ${String(c.value)} vs ${String(c.threshold)}`);
      ros.logger.info(
        `${ros.name}: ${sc.name} ${result.verdict.toUpperCase()}: progress ${metrics.progress_m.toFixed(1)} m, off-road ${metrics.offroad_m.toFixed(2)} m ${metrics.offroad_s.toFixed(2)} s, ` +
          `collision ${metrics.collision ? 'yes' : 'no'}, max |jerk| ${metrics.max_abs_jerk_mps3.toFixed(2)} m/s³, final watchdog state ${wd}${failed.length ? `; failed: ${failed.join('; ')}` : ''}`,
      );
      if (p.exit_at_end) ros.shutdown().catch(() => undefined); // a failed step is logged by the node
    },
    (sc.duration_s * 1000) / p.real_time_factor + periodMs / 2,
  );
  return {
    simulator: sim,
    get result() {
      return result;
    },
    stop: () => {
      finish.unsubscribe();
      sim.stop();
      stateSub.unsubscribe();
    },
  };
}

/**
 * `ar1 node sim --ros-args -p scenario:=FILE …`: parameters and the scenario are checked offline (a bad file fails
 * without ROS, one line, exit 2), then the rclnodejs node starts; the exit status is the verdict.
 */
export async function runSimNode(
  opts: NodeCommandOptions,
  argv: readonly string[],
  deps: NodeCommandDeps = {},
): Promise<void> {
  if (opts.bundle !== undefined) throw new UserError('--bundle: applies to the planner only');
  if (opts.logLevel !== undefined && !(LOG_LEVELS as readonly string[]).includes(opts.logLevel)) {
    throw new UserError(`--log-level: expected one of ${LOG_LEVELS.join(', ')}, got "${opts.logLevel}"`);
  }
  const rclArgv = [...argv, ...(opts.logLevel ? ['--ros-args', '--log-level', opts.logLevel] : [])];
  const args = parseRosArgs(rclArgv);
  if (args.rest.length)
    throw new UserError(`node sim: unexpected argument "${args.rest[0]}" (ROS arguments go after --ros-args)`);
  const name = args.nodeName ?? SIM_NODE_NAME;
  const schema = readSchema(SIM_SCHEMA_PATH);
  const params = loadParameters<SimNodeParams>(
    name,
    schema,
    parameterOverridesFromArgs(args, name, args.namespace ?? '/'),
  );
  const loaded = loadScenario(params.scenario);
  checkForNode(loaded, params);

  const env = deps.env ?? process.env;
  if (!deps.createNode) {
    const { rosEnvironmentProblem } = await import('../adapters/rclnodejs/loader.js');
    const problem = rosEnvironmentProblem(env);
    if (problem) throw new UserError(`node sim: ${problem}`, 3);
  }
  const createNode = deps.createNode ?? (await import('../adapters/rclnodejs/rclNode.js')).createRclNode;
  const ros = await createNode({ name: SIM_NODE_NAME, argv: rclArgv });
  ros.declareParameters(params as unknown as Record<string, unknown>, schema);
  const handle = startSimNode(ros, params, loaded);
  ros.onShutdown(() => handle.stop());
  ros.logger.info(
    `${ros.name} running ${loaded.scenario.name} (${loaded.scenario.duration_s} s at ${params.real_time_factor}× real time) [namespace=${ros.namespace}]`,
  );
  await lastValueFrom(ros.shutdown$, { defaultValue: undefined });
  if (handle.result) process.exitCode = handle.result.verdict === 'pass' ? 0 : 1;
}
