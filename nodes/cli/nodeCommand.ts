/** `ar1 node <planner|watchdog> [--bundle DIR] [--log-level L] --ros-args …`: one vehicle node on ROS 2. */
import type { Command } from 'commander';
import { lastValueFrom } from 'rxjs';
import { errorFirstLine, UserError } from '../core/errors.js';
import { LOG_LEVELS } from '../core/logger.js';
import { parameterOverridesFromArgs } from '../core/params/fromArgs.js';
import { renamedNodeWarnings } from '../core/params/renamedNode.js';
import type { ParameterOverrides } from '../core/params/overrides.js';
import { parseRosArgs } from '../core/params/rosArgs.js';
import type { NodeCommandDeps, NodeCommandOptions, RegisterCommand, RunnableRosNode } from './command.js';

export const NODE_NAMES = { planner: 'ar1_planner', watchdog: 'ar1_watchdog' } as const;
export type NodeKind = keyof typeof NODE_NAMES;

export const register: RegisterCommand = (program: Command) => {
  program
    .command('node')
    .description(
      'run ar1_planner or ar1_watchdog on ROS 2 (needs ROS 2 Jazzy sourced; see nodes/adapters/rclnodejs/README.md)',
    )
    .argument('<which>', 'planner | watchdog | sim (the closed-loop simulator, docs/simulation.md)')
    .argument('[ros-args...]', '--ros-args --params-file FILE -p name:=value -r from:=to … (as for any ROS 2 node)')
    .option('--bundle <dir>', 'model bundle folder (planner); overrides the bundle_dir parameter')
    .option('--log-level <level>', `${LOG_LEVELS.join(' | ')} (same as --ros-args --log-level)`)
    .allowUnknownOption()
    .action(async (which: string, rosArgs: string[], opts: NodeCommandOptions) => {
      await runNode(which, opts, rosArgs);
    });
};

/**
 * Checks the arguments and loads the node's parameters (offline, so a bad file fails even without ROS), then
 * checks for ROS 2, creates the rclnodejs node, starts the node and waits for its shutdown (SIGINT/SIGTERM).
 */
export async function runNode(
  which: string,
  opts: NodeCommandOptions,
  argv: readonly string[],
  deps: NodeCommandDeps = {},
): Promise<void> {
  // The closed-loop simulator (nodes/sim/rosNode.ts): its own parameters and verdict, the same deps.
  if (which === 'sim') return (await import('../sim/rosNode.js')).runSimNode(opts, argv, deps);
  if (!(which in NODE_NAMES)) throw new UserError(`node: expected planner or watchdog, got "${which}"`);
  const kind = which as NodeKind;
  if (opts.bundle !== undefined && kind !== 'planner') throw new UserError('--bundle: applies to the planner only');
  if (opts.logLevel !== undefined && !(LOG_LEVELS as readonly string[]).includes(opts.logLevel)) {
    throw new UserError(`--log-level: expected one of ${LOG_LEVELS.join(', ')}, got "${opts.logLevel}"`);
  }
  const rclArgv = [...argv, ...(opts.logLevel ? ['--ros-args', '--log-level', opts.logLevel] : [])];
  const args = parseRosArgs(rclArgv);
  if (args.rest.length)
    throw new UserError(`node ${kind}: unexpected argument "${args.rest[0]}" (ROS arguments go after --ros-args)`);
  const name = args.nodeName ?? NODE_NAMES[kind];
  const namespace = args.namespace ?? '/';
  const fromArgs = parameterOverridesFromArgs(args, name, namespace);
  const overrides: ParameterOverrides =
    opts.bundle === undefined
      ? fromArgs
      : { sources: [...fromArgs.sources, { origin: '--bundle', values: { bundle_dir: opts.bundle } }] };
  const loaded = await loadParams(kind, overrides, name);

  const env = deps.env ?? process.env;
  if (!deps.createNode) {
    const { rosEnvironmentProblem } = await import('../adapters/rclnodejs/loader.js');
    const problem = rosEnvironmentProblem(env);
    if (problem) throw new UserError(`node ${kind}: ${problem}`, 3);
  }
  const createNode = deps.createNode ?? (await import('../adapters/rclnodejs/rclNode.js')).createRclNode;
  const ros = await createNode({ name: NODE_NAMES[kind], argv: rclArgv });
  let started: boolean;
  try {
    ros.declareParameters(loaded.params as unknown as Record<string, unknown>, loaded.schema);
    for (const w of renamedNodeWarnings(args.paramsFiles, name, NODE_NAMES[kind], namespace)) ros.logger.warn(w);
    started = await startKind(ros, loaded);
  } catch (e) {
    // The node is in the ROS graph (and rclnodejs's spin keeps the process alive): it leaves before the error is
    // reported, or the process would stay in the graph after printing it.
    await ros.shutdown().catch(() => undefined);
    const { EngineError } = await import('../core/planningEngine.js');
    if (e instanceof EngineError) throw new UserError(`node ${kind}: start-up failed: ${errorFirstLine(e)}`, 1);
    throw e;
  }
  if (!started) return; // a signal came during start-up: the node is down already
  ros.logger.info(`${ros.name} running [namespace=${ros.namespace}]`);
  await lastValueFrom(ros.shutdown$, { defaultValue: undefined });
}

type LoadedParams = Awaited<ReturnType<typeof loadParams>>;

async function loadParams(kind: NodeKind, overrides: ParameterOverrides, name: string) {
  const { readSchema } = await import('../core/params/index.js');
  if (kind === 'planner') {
    const { loadPlannerParams, PLANNER_SCHEMA_PATH } = await import('../planner/params.js');
    return { kind, params: loadPlannerParams(overrides, name), schema: readSchema(PLANNER_SCHEMA_PATH) } as const;
  }
  const { loadWatchdogParams, WATCHDOG_SCHEMA_PATH } = await import('../watchdog/params.js');
  return { kind, params: loadWatchdogParams(overrides, name), schema: readSchema(WATCHDOG_SCHEMA_PATH) } as const;
}

/** Starts the node's work; false when a signal stopped the node during start-up (nothing was started). */
async function startKind(ros: RunnableRosNode, loaded: LoadedParams): Promise<boolean> {
  if (loaded.kind === 'planner') {
    const p = loaded.params;
    // The pinned manifest first: a changed manifest (numbers that steer the car) never loads.
    (await import('../bundle/manifestPin.js')).checkManifestPin(p.bundle_dir, p.manifest_sha256);
    const { createOnnxEngine } = await import('../adapters/onnxruntime/index.js');
    const { EngineError } = await import('../core/planningEngine.js');
    // A signal can come while the worker loads the bundle (seconds; a TensorRT engine build: minutes), or while a
    // plan is inside a graph run: onnxruntime cannot stop either, a plain exit would wait for it and then abort. The
    // node's shutdown asks this before it exits, and ends the process with SIGKILL at its deadline instead.
    let engine: Awaited<ReturnType<typeof createOnnxEngine>> | undefined;
    let loading = true;
    let stopped = false;
    ros.shutdown$.subscribe({ complete: () => (stopped = true) });
    ros.addExitCheck(() => (loading ? 'the inference worker is loading the bundle' : engine?.nativeWork()));
    try {
      engine = await createOnnxEngine({
        bundleDir: p.bundle_dir,
        executionProviders: p.execution_providers,
        logger: ros.logger,
      });
    } catch (e) {
      // A signal came during the load: the node is down already, and its exit code is the shutdown's.
      if (stopped) return false;
      // A bundle that cannot be loaded, or no execution provider that works, is a start-up mistake: one line, exit 2.
      if (e instanceof EngineError && (e.kind === 'bundle' || e.kind === 'runtime'))
        throw new UserError(`node planner: bundle_dir ${p.bundle_dir}: ${e.message}`);
      throw e;
    } finally {
      loading = false;
    }
    const ready = engine;
    if (stopped) {
      // A signal came while the bundle loaded: the node is down already, nothing to start.
      await ready.close();
      return false;
    }
    // Stage timings are telemetry of real work: the only wall-clock reading, taken here at the composition root.
    const handle = (await import('../planner/plannerNode.js')).startPlanner(ros, p, ready, {
      perfNow: () => performance.now(),
    });
    ros.onShutdown(async () => {
      try {
        await handle.stop();
      } finally {
        await ready.close(); // waits for a graph run in progress: it cannot be stopped
      }
    });
    return true;
  }
  // Liveness is judged on the transport's steady clock (the rclnodejs adapter's is monotonic time).
  const handle = (await import('../watchdog/watchdogNode.js')).startWatchdog(ros, loaded.params);
  ros.onShutdown(() => handle.stop());
  return true;
}
