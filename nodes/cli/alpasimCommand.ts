/** `ar1 alpasim-driver`: serves NVIDIA AlpaSim's EgodriverService with the planner and watchdog node code. */
import { Option, type Command } from 'commander';
import { resolve } from 'node:path';
import { UserError, errorMessage } from '../core/errors.js';
import { consoleLogger, type LogLevel } from '../core/logger.js';
import type { PlanningEngine } from '../core/planningEngine.js';
import { parseLatency, type LatencyModel } from '../replay/latencyModel.js';
import { packageVersion, type RegisterCommand } from './command.js';
import { bundleAndProviders } from './replayCommand.js';

export interface AlpasimCliOptions {
  listen: string;
  bundle?: string;
  params: string[];
  record?: string;
  seed?: string;
  samples: string;
  latency: string;
  watchdogBraking: string;
  providers?: string;
  maxImageMb: string;
  logLevel: string;
}

export const DEFAULT_LISTEN = '0.0.0.0:6789';

export const register: RegisterCommand = (program: Command) => {
  program
    .command('alpasim-driver')
    .description(
      "serve NVIDIA AlpaSim's EgodriverService over gRPC with ar1_planner + ar1_watchdog (one planner state and virtual clock per session)",
    )
    .option('--listen <host:port>', 'address to serve on (AlpaSim: the external driver address)', DEFAULT_LISTEN)
    .option('--bundle <dir>', 'model bundle directory (default: bundle_dir from the planner parameters)')
    .option('--params <file...>', 'ROS 2 parameter files, as on the vehicle (repeatable)', [])
    .option(
      '--record <dir>',
      "write each session's output bag, report.json, compute.json and report.html to DIR/<session>/",
    )
    .option('--seed <n>', "planner seed for every session (default: each session's random_seed)")
    .option(
      '--samples <k>',
      "trajectory samples per plan, all in the answer's sampled_trajectories (AlpaSim's minADE)",
      '1',
    )
    .option(
      '--latency <ms|measured>',
      'modelled plan latency in each session\'s virtual time: milliseconds, or "measured"',
      '0',
    )
    .addOption(
      new Option(
        '--watchdog-braking <on|off>',
        "the watchdog's fallback braking replaces a stale plan in drive's answer",
      )
        .choices(['on', 'off'])
        .default('on'),
    )
    .option('--providers <list>', 'execution providers, comma separated (default: execution_providers parameter)')
    .option('--max-image-mb <n>', 'largest image accepted [MiB]; gRPC accepts requests up to this + 4 MiB', '32')
    .addOption(
      new Option('--log-level <level>', 'log level').choices(['debug', 'info', 'warn', 'error']).default('info'),
    )
    .action(async (opts: AlpasimCliOptions) => {
      process.exitCode = await runAlpasimDriver(opts);
    });
};

/** host:port → checked address (IPv6 hosts in brackets, e.g. [::1]:6789). */
export function parseListen(text: string): string {
  const m = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(text);
  const port = m ? Number(m[2]) : NaN;
  if (!m || !(port >= 0 && port <= 65535))
    throw new UserError(`--listen: expected HOST:PORT (port 0-65535), got "${text}"`);
  return text;
}

function numberOption(name: string, text: string, min: number, integer: boolean): number {
  const v = Number(text);
  if (!Number.isFinite(v) || v < min || (integer && !Number.isInteger(v))) {
    throw new UserError(`--${name}: expected ${integer ? 'an integer' : 'a number'} >= ${min}, got "${text}"`);
  }
  return v;
}

/**
 * Loads everything (parameters, bundle) before listening, serves until SIGINT/SIGTERM, then closes every session
 * (each one's accounting is logged; with --record its outputs are written) and the engine.
 */
export async function runAlpasimDriver(opts: AlpasimCliOptions, stop?: Promise<void>): Promise<number> {
  const listen = parseListen(opts.listen);
  const seed = opts.seed === undefined ? undefined : numberOption('seed', opts.seed, 0, true);
  if (seed !== undefined && seed > 4294967295)
    throw new UserError(`--seed: expected an integer <= 4294967295, got "${opts.seed}"`);
  const samples = numberOption('samples', opts.samples, 1, true);
  const maxImageBytes = Math.floor(numberOption('max-image-mb', opts.maxImageMb, 0.001, false) * 1024 * 1024);
  let latency: LatencyModel;
  try {
    latency = parseLatency(opts.latency);
  } catch (e) {
    throw new UserError(errorMessage(e));
  }
  const log = consoleLogger('ar1 alpasim-driver', opts.logLevel as LogLevel);

  const { loadDriverParams } = await import('../alpasim/params.js');
  const params = loadDriverParams(opts.params, samples);
  const { bundle, providers } = bundleAndProviders(opts, params.planner);
  const { createOnnxEngine } = await import('../adapters/onnxruntime/index.js');
  const engine: PlanningEngine = await createOnnxEngine({
    bundleDir: bundle,
    executionProviders: providers,
    logger: log,
  });
  const contract = engine.contract;
  if (params.planner.cameras.names.join(',') !== contract.cameras.join(',')) {
    await engine.close();
    throw new UserError(
      `cameras.names: expected the bundle's cameras in its order [${contract.cameras.join(', ')}] (bundle ${contract.bundleId}), got [${params.planner.cameras.names.join(', ')}]`,
    );
  }

  const { EgodriverService } = await import('../alpasim/service.js');
  const { startDriverServer } = await import('../alpasim/server.js');
  const { sessionRecorder } = await import('../alpasim/recorder.js');
  const version = packageVersion();
  const recordDir = opts.record !== undefined ? resolve(opts.record) : undefined;
  const service = new EgodriverService({
    engine,
    planner: params.planner,
    watchdog: params.watchdog,
    latency,
    seed,
    watchdogBraking: opts.watchdogBraking !== 'off',
    logger: log,
    version,
    maxImageBytes,
    maxPosesPerRequest: 100_000,
    ...(recordDir !== undefined
      ? {
          sessionHooks: (uuid: string, s: number) =>
            sessionRecorder(
              {
                dir: recordDir,
                planner: params.planner,
                watchdog: params.watchdog,
                version,
                bundleId: contract.bundleId,
                provider: () => engine.provider,
                samples,
                latency,
                logger: log,
              },
              uuid,
              s,
            ),
        }
      : {}),
  });
  let server;
  try {
    server = await startDriverServer(service, {
      listen,
      maxReceiveBytes: maxImageBytes + 4 * 1024 * 1024,
      logger: log,
    });
  } catch (e) {
    await engine.close();
    throw new UserError(`--listen: cannot serve on ${listen}: ${errorMessage(e).split('\n')[0]}`);
  }
  const host = listen.slice(0, listen.lastIndexOf(':'));
  process.stdout.write(
    `ar1 alpasim-driver: serving egodriver.EgodriverService on ${host}:${server.port} with ${contract.bundleId} on ${engine.provider}, ` +
      `latency ${latency.kind === 'fixed' ? `${latency.ms} ms` : 'measured'}, seed ${seed ?? 'per session'}, watchdog braking ${opts.watchdogBraking}` +
      `${recordDir !== undefined ? `, recording to ${recordDir}` : ''}\n`,
  );

  await (stop ??
    new Promise<void>((done) => {
      const onSignal = (sig: NodeJS.Signals) => {
        log.info(`${sig}: closing the open sessions (${service.openSessions})`);
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        done();
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
    }));
  try {
    await server.close();
  } finally {
    await engine.close();
  }
  return 0;
}
