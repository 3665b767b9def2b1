/** `ar1 sim`: closed-loop simulation of scenario files through ar1_planner + ar1_watchdog, without ROS. */
import { Option, type Command } from 'commander';
import { basename, join, resolve } from 'node:path';
import { mkdir, writeFile } from 'node:fs/promises';
import { statSync } from 'node:fs';
import { UserError, errorMessage } from '../core/errors.js';
import { consoleLogger } from '../core/logger.js';
import { loadReplayParams, removeReplayOutputs } from '../replay/runner.js';
import { parseLatency, type LatencyModel } from '../replay/latencyModel.js';
import { stableJson } from '../replay/report.js';
import { consistencyHeadline } from '../replay/consistencyReport.js';
import { checkFaultsApply, loadScenario, type LoadedScenario } from '../sim/scenario.js';
import { checkSimParams, runScenario, type SimResult } from '../sim/runner.js';
import { bundleAndProviders, loadEngine, outputDirs, type EngineFactory } from './replayCommand.js';
import { containUnhandled } from './unhandledErrors.js';
import { packageVersion, type RegisterCommand } from './command.js';

export interface SimCliOptions {
  scenario?: string[];
  bundle?: string;
  params: string[];
  out: string;
  seed: string;
  latency: string;
  providers?: string;
  frames?: boolean;
  json?: boolean;
  /** Nothing on stdout (the summary still goes to <out>/summary.json): `ar1 demo --json`. */
  quiet?: boolean;
  logLevel: string;
}

export const register: RegisterCommand = (program: Command) => {
  program
    .command('sim')
    .description(
      'closed-loop simulation: scenario files drive ar1_planner + ar1_watchdog in virtual time against a vehicle model; exit 1 if any scenario fails',
    )
    .option('--scenario <file...>', 'scenario YAML file(s) (config/scenarios/*.yaml ships a set)')
    .option('--bundle <dir>', 'model bundle directory (default: bundle_dir from the planner parameters)')
    .option('--params <file...>', 'ROS 2 parameter files, as on the vehicle (repeatable)', [])
    .option('--out <dir>', 'output directory', 'out/sim')
    .option('--seed <n>', 'sampling seed', '0')
    .option('--latency <ms|measured>', 'modelled plan latency in virtual time: milliseconds, or "measured"', '100')
    .option('--providers <list>', 'execution providers, comma separated (default: execution_providers parameter)')
    .option('--frames', 'also record the rendered camera frames in the output bag (large)')
    .option('--json', 'print the verdicts as JSON on stdout')
    .addOption(
      new Option('--log-level <level>', 'node log level').choices(['debug', 'info', 'warn', 'error']).default('warn'),
    )
    .action(async (opts: SimCliOptions) => {
      process.exitCode = await runSimCli(opts);
    });
};

function intOption(name: string, text: string, min: number): number {
  const v = text.trim() === '' ? Number.NaN : Number(text);
  if (!Number.isSafeInteger(v) || v < min)
    throw new UserError(`--${name}: expected an integer >= ${min}, got "${text}"`);
  return v;
}

async function prepareOutDir(outDir: string): Promise<void> {
  if (/^\/(proc|sys|dev)(\/|$)/.test(outDir))
    throw new UserError(`--out: ${outDir}: expected a directory on a file system, got a kernel file system`);
  try {
    await mkdir(outDir, { recursive: true });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UserError(
      `--out: ${outDir}: cannot create the output directory (${code === 'EEXIST' || code === 'ENOTDIR' ? 'a file is in the way' : (code ?? errorMessage(e))})`,
    );
  }
  if (!statSync(outDir).isDirectory()) throw new UserError(`--out: ${outDir}: expected a directory, got a file`);
}

/**
 * Every scenario is read and checked (schema, geometry, faults against the cameras) before the model loads; then each
 * runs. Exit 0 when every scenario passes, 1 when one fails its thresholds or cannot run, 2 for bad input.
 */
export async function runSimCli(opts: SimCliOptions, engineFactory?: EngineFactory): Promise<number> {
  const seed = intOption('seed', opts.seed, 0);
  let latency: LatencyModel;
  try {
    latency = parseLatency(opts.latency);
  } catch (e) {
    throw new UserError(errorMessage(e));
  }
  const files = opts.scenario ?? [];
  if (files.length === 0) throw new UserError('no scenarios: pass --scenario FILE… (config/scenarios/ ships a set)');
  const log = consoleLogger('ar1 sim', opts.logLevel as 'warn');
  const params = loadReplayParams(opts.params, seed, 1).planner;
  checkSimParams(params);
  const scenarios: LoadedScenario[] = files.map((f) => loadScenario(f));
  for (const s of scenarios) checkFaultsApply(s, params.cameras.names);
  const { bundle, providers } = bundleAndProviders(opts, params);
  const outDir = resolve(opts.out);
  await prepareOutDir(outDir);
  const engine = await loadEngine(bundle, providers, log, engineFactory);
  const results: SimResult[] = [];
  const failures: string[] = [];
  const unhandled = containUnhandled();
  const dirs = outputDirs(scenarios.map((s) => s.scenario.name)).map((d) => join(outDir, d));
  try {
    for (const [i, s] of scenarios.entries()) {
      const dir = dirs[i]!;
      await unhandled.run(async (callbackErrors) => {
        try {
          const r = await runScenario({
            loaded: s,
            engine,
            paramsFiles: opts.params,
            outDir: dir,
            seed,
            latency,
            version: packageVersion(),
            frames: opts.frames === true,
            logger: log,
          });
          await new Promise<void>((done) => setTimeout(done, 0)); // RxJS reports callback errors on a timer
          const thrown = callbackErrors.take();
          if (thrown !== undefined)
            throw new UserError(`${s.file}: a message could not be handled: ${errorMessage(thrown)}`);
          results.push(r);
          if (opts.json !== true && opts.quiet !== true) process.stdout.write(headline(r));
        } catch (e) {
          // A failed scenario leaves no report (nor an earlier run's) that would read as a result.
          await removeReplayOutputs(dir, s.file).catch(() => undefined);
          const message = e instanceof UserError ? e.message : `${s.file}: ${errorMessage(e)}`;
          if (!(e instanceof UserError))
            log.debug(`${s.file}: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
          failures.push(message);
          process.stderr.write(`ar1: ${message}\n`);
        }
      });
    }
    for (const e of unhandled.takeOrphans()) {
      failures.push(`a message could not be handled: ${errorMessage(e)}`);
      process.stderr.write(`ar1: a message could not be handled outside a scenario: ${errorMessage(e)}\n`);
    }
  } finally {
    unhandled.restore();
    await engine.close();
  }
  const summary = {
    scenarios: results.map((r) => ({
      name: r.report.scenario.name,
      file: r.report.scenario.file,
      verdict: r.report.verdict,
      failed_checks: r.report.checks.filter((c) => !c.pass).map((c) => c.name),
      metrics: r.report.metrics,
      out: r.outDir,
    })),
    errors: failures,
  };
  if (results.length > 1 || failures.length) await writeFile(join(outDir, 'summary.json'), stableJson(summary));
  if (opts.quiet === true) {
    /* nothing on stdout */
  } else if (opts.json === true) process.stdout.write(stableJson(summary));
  else if (scenarios.length > 1) {
    const passed = results.filter((r) => r.report.verdict === 'pass').length;
    process.stdout.write(
      `${passed} of ${scenarios.length} scenarios passed${failures.length ? `, ${failures.length} could not run` : ''}\n`,
    );
  }
  return failures.length || results.some((r) => r.report.verdict === 'fail') ? 1 : 0;
}

const fmt = (v: number | null, d = 2) => (v === null || !Number.isFinite(v) ? 'n/a' : v.toFixed(d));

export function headline(r: SimResult): string {
  const p = r.report;
  const m = p.metrics;
  const failed = p.checks.filter((c) => !c.pass);
  const lines = [
    `sim ${p.scenario.name} (${basename(p.scenario.file)}, ${p.scenario.duration_s} s) with ${p.bundle}, latency ${p.latency_model.mode === 'fixed' ? `${p.latency_model.ms} ms` : 'measured'}: ${p.verdict.toUpperCase()}`,
    `  progress   ${fmt(m.progress_m, 1)} m (${fmt(100 * m.progress_fraction, 0)} % of the route), max speed ${fmt(m.max_speed_mps, 1)} m/s, final ${fmt(m.final_speed_mps, 1)} m/s`,
    `  off-road   ${fmt(m.offroad_m)} m, ${fmt(m.offroad_s)} s; collision ${m.collision ? 'YES' : 'no'}${m.min_distance_m !== null ? `, closest ${fmt(m.min_distance_m)} m, min TTC ${fmt(m.min_ttc_s)} s, stopped before it ${m.stopped_before_obstacle ? 'yes' : 'no'}` : ''}`,
    `  comfort    max |jerk| ${fmt(m.max_abs_jerk_mps3)} m/s³, |lat accel| ${fmt(m.max_abs_lat_accel_mps2)} m/s², |lat jerk| ${fmt(m.max_abs_lat_jerk_mps3)} m/s³`,
    `  watchdog   ${Object.entries(m.time_in_state_s)
      .filter(([, v]) => v > 0)
      .map(([k, v]) => `${k} ${v.toFixed(1)} s`)
      .join(', ')}; final ${p.watchdog.final_state}`,
    ...(p.reasoning.length
      ? [
          `  reasoning  ${p.reasoning
            .slice(0, 4)
            .map((x) => `"${x.text}" (${x.count})`)
            .join(', ')}`,
        ]
      : []),
    consistencyHeadline(p.consistency),
    ...failed.map((c) => `  FAILED     ${c.name}: ${String(c.value)} vs ${String(c.threshold)}`),
    ...(r.files ? [`  report     ${r.files.html}`, `  output bag ${r.files.bag}`] : []),
  ];
  return lines.join('\n') + '\n';
}
