/** `ar1 replay`: rosbag replay evaluation through the vehicle node code, without ROS. */
import { Option, type Command } from 'commander';
import { basename, dirname, join, resolve } from 'node:path';
import { readFileSync, statSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import cliProgress from 'cli-progress';
import { UserError, errorMessage } from '../core/errors.js';
import { consoleLogger, type Logger } from '../core/logger.js';
import { EngineError, type PlanningEngine } from '../core/planningEngine.js';
import { loadReplayParams, removeReplayOutputs, replayBag, type ReplayResult } from '../replay/runner.js';
import { parseLatency, type LatencyModel } from '../replay/latencyModel.js';
import { mergeReports, parseShard, shardOf } from '../replay/merge.js';
import { PlanBatcher } from '../replay/batchedPlans.js';
import { stableJson, type ReportJson } from '../replay/report.js';
import { consistencyHeadline } from '../replay/consistencyReport.js';
import { packageVersion, type RegisterCommand } from './command.js';
import { containUnhandled } from './unhandledErrors.js';

export interface ReplayCliOptions {
  bag?: string[];
  bagList?: string;
  bundle?: string;
  params: string[];
  out: string;
  seed: string;
  samples: string;
  latency: string;
  shard?: string;
  batch?: string;
  providers?: string;
  json?: boolean;
  /** false with --no-output-bag. */
  outputBag: boolean;
  logLevel: string;
}

export const register: RegisterCommand = (program: Command) => {
  program
    .command('replay')
    .description(
      'replay rosbag2 MCAP bags through ar1_planner + ar1_watchdog in virtual time; write an output bag and reports',
    )
    .option('--bag <path...>', 'bag(s): a .mcap file or a rosbag2 directory (repeatable)')
    .option(
      '--bag-list <file>',
      'a text file with one bag path per line (# comments; relative paths from the file), for datasets',
    )
    .option('--bundle <dir>', 'model bundle directory (default: bundle_dir from the planner parameters)')
    .option('--params <file...>', 'ROS 2 parameter files, as on the vehicle (repeatable)', [])
    .option('--out <dir>', 'output directory', 'out/replay')
    .option('--seed <n>', 'sampling seed', '0')
    .option('--samples <k>', 'trajectory samples per plan for minADE (AR1 reports K = 6)', '1')
    .option('--latency <ms|measured>', 'modelled plan latency in virtual time: milliseconds, or "measured"', '100')
    .option('--shard <i/N>', 'replay only shard i of N (bags sorted by path, bag j in shard j mod N)')
    .option(
      '--batch <B>',
      'replay up to B bags at once in this process, each in its own virtual time, their pending plans sent to one engine in one batched call (outputs identical to one at a time with a fixed latency)',
      '1',
    )
    .option('--providers <list>', 'execution providers, comma separated (default: execution_providers parameter)')
    .option(
      '--no-output-bag',
      'write no output bag, only the reports (same reports; about a third less CPU, for dataset sweeps)',
    )
    .option('--json', 'print the summary as JSON on stdout')
    .addOption(
      new Option('--log-level <level>', 'node log level').choices(['debug', 'info', 'warn', 'error']).default('warn'),
    )
    .action(async (opts: ReplayCliOptions) => {
      process.exitCode = await runReplayCli(opts);
    });
};

/** Bag paths from a list file: one per line, blank lines and # comments ignored, relative to the file. */
export function readBagList(file: string): string[] {
  let text: string;
  try {
    // A FIFO or a device would block the read for ever; a list over 16 MiB is not a list of bags.
    const st = statSync(file);
    if (!st.isFile())
      throw new UserError(
        `--bag-list: ${file}: expected a text file, got ${st.isDirectory() ? 'a directory' : 'a FIFO, socket or device'}`,
      );
    if (st.size > 16 << 20)
      throw new UserError(`--bag-list: ${file}: expected at most ${16 << 20} bytes, got ${st.size}`);
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if (e instanceof UserError) throw e;
    throw new UserError(`--bag-list: ${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
  return text
    .split(/\r?\n/)
    .map((l) => l.replace(/#.*$/, '').trim())
    .filter(Boolean)
    .map((l) => resolve(dirname(resolve(file)), l));
}

function intOption(name: string, text: string, min: number): number {
  const v = text.trim() === '' ? Number.NaN : Number(text); // Number('') is 0: an empty value is not a number
  if (!Number.isSafeInteger(v) || v < min)
    throw new UserError(`--${name}: expected an integer >= ${min}, got "${text}"`);
  return v;
}

/** onnxruntime execution providers by name (what createOnnxEngine accepts); anything else is a typo. */
export const KNOWN_PROVIDERS = ['tensorrt', 'cuda', 'cpu', 'dml', 'coreml', 'webgpu', 'qnn', 'xnnpack'] as const;

/** "--providers a,b": a non-empty list of known provider names. */
export function parseProviders(text: string, what = '--providers'): string[] {
  const list = text
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);
  if (list.length === 0)
    throw new UserError(
      `${what}: expected a comma-separated list of execution providers (${KNOWN_PROVIDERS.join(', ')}), got "${text}"`,
    );
  const unknown = list.find((x) => !(KNOWN_PROVIDERS as readonly string[]).includes(x));
  if (unknown !== undefined)
    throw new UserError(
      `${what}: unknown execution provider "${unknown}" (expected one of ${KNOWN_PROVIDERS.join(', ')})`,
    );
  return list;
}

/** A bag path must exist and be a file or a directory (a FIFO or a device would hang the reader). */
function checkBagPath(bag: string): void {
  let st;
  try {
    st = statSync(bag);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UserError(
      `--bag: ${bag}: ${code === 'ENOENT' ? 'no such file or directory' : `cannot read (${code ?? errorMessage(e)})`}`,
    );
  }
  if (!st.isFile() && !st.isDirectory())
    throw new UserError(`--bag: ${bag}: expected an .mcap file or a rosbag2 directory, got a FIFO, socket or device`);
}

/** The output directory: created now (before the model loads), so a file, /proc or a read-only place fails at once. */
async function prepareOutDir(outDir: string): Promise<void> {
  if (outDir.startsWith('/proc/') || outDir === '/proc' || outDir.startsWith('/sys/') || outDir.startsWith('/dev/')) {
    throw new UserError(`--out: ${outDir}: expected a directory on a file system, got a kernel file system`);
  }
  try {
    await mkdir(outDir, { recursive: true });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why =
      code === 'EEXIST' || code === 'ENOTDIR'
        ? 'a file is in the way'
        : code === 'EACCES' || code === 'EROFS'
          ? 'not writable'
          : (code ?? errorMessage(e));
    throw new UserError(`--out: ${outDir}: cannot create the output directory (${why})`);
  }
  if (!statSync(outDir).isDirectory()) throw new UserError(`--out: ${outDir}: expected a directory, got a file`);
}

/** Runs every bag; a bag that fails is reported in one line and the others still run. Exit 1 if any bag failed. */
/** Makes the engine for a bundle and providers (tests pass a fake). */
export type EngineFactory = (bundle: string, providers: string[], log: Logger) => Promise<PlanningEngine>;

/**
 * The model bundle and the execution providers to try: the command line's, else the planner parameters'. No bundle
 * at all, or an unknown provider, is a bad input (one line, exit 2).
 */
export function bundleAndProviders(
  opts: { bundle?: string | undefined; providers?: string | undefined },
  planner: { bundle_dir: string; execution_providers: readonly string[] },
): { bundle: string; providers: string[] } {
  const bundle = opts.bundle ?? planner.bundle_dir;
  if (!bundle)
    throw new UserError(
      'no model bundle: pass --bundle DIR or set bundle_dir in the planner parameters (ar1 model make-demo DIR writes the demo bundle)',
    );
  const providers =
    opts.providers !== undefined
      ? parseProviders(opts.providers)
      : parseProviders(planner.execution_providers.join(','), 'execution_providers');
  return { bundle, providers };
}

/**
 * Loads the bundle on the first provider that works (onnxruntime unless a factory is given). A bundle that cannot be
 * loaded, or no provider that works here (cuda without a GPU), is a bad input: one line, exit 2.
 */
export async function loadEngine(
  bundle: string,
  providers: string[],
  log: Logger,
  factory?: EngineFactory,
): Promise<PlanningEngine> {
  const make =
    factory ??
    (async (b: string, p: string[], l: Logger) =>
      (await import('../adapters/onnxruntime/index.js')).createOnnxEngine({
        bundleDir: b,
        executionProviders: p,
        logger: l,
      }));
  try {
    return await make(bundle, providers, log);
  } catch (e) {
    if (e instanceof EngineError) throw new UserError(`--bundle ${bundle}: ${e.message}`);
    throw e;
  }
}

export async function runReplayCli(opts: ReplayCliOptions, engineFactory?: EngineFactory): Promise<number> {
  const seed = intOption('seed', opts.seed, 0);
  const samples = intOption('samples', opts.samples, 1);
  const batch = intOption('batch', opts.batch ?? '1', 1);
  let latency: LatencyModel;
  try {
    latency = parseLatency(opts.latency);
  } catch (e) {
    throw new UserError(errorMessage(e));
  }
  let bags = [...(opts.bag ?? []), ...(opts.bagList !== undefined ? readBagList(opts.bagList) : [])];
  if (bags.length === 0 && opts.shard === undefined)
    throw new UserError('no bags: pass --bag PATH… or --bag-list FILE');
  if (opts.shard !== undefined) {
    let shard: { index: number; count: number };
    try {
      shard = parseShard(opts.shard);
    } catch (e) {
      throw new UserError(errorMessage(e));
    }
    bags = shardOf(bags, (b) => resolve(b), shard.index, shard.count);
  }
  if (latency.kind === 'measured' && batch > 1 && bags.length > 1)
    throw new UserError(
      `--latency measured: not with --batch ${batch} (one batched engine call times its plans together, so every plan ` +
        'would get the whole call as its latency): use --batch 1, or a fixed latency',
    );
  const log = consoleLogger('ar1 replay', opts.logLevel as 'warn');
  // Cheap inputs first: parameters, providers, bags and the output directory are checked before the model loads.
  const params = loadReplayParams(opts.params, seed, samples).planner;
  const { bundle, providers } = bundleAndProviders(opts, params);
  const outDir = resolve(opts.out);
  if (bags.length === 0) {
    process.stderr.write('ar1 replay: this shard holds no bags\n');
    return 0;
  }
  for (const bag of bags) checkBagPath(bag);
  await prepareOutDir(outDir);
  // A summary from an earlier run into this folder goes now: this run writes its own, or none (fewer than 2 bags done).
  await rm(join(outDir, 'summary.json'), { force: true });
  // The pinned manifest (planner parameter manifest_sha256), before the model loads.
  (await import('../bundle/manifestPin.js')).checkManifestPin(bundle, params.manifest_sha256);
  // Each bag's files open (MCAP magic, metadata.yaml, a summary that holds together): only headers and summaries
  // are read. A bag that does not is one line; when no bag opens that is bad input (exit 2) before the model loads,
  // otherwise the other bags still run.
  const { openBag } = await import('../adapters/mcap/index.js');
  const unopenable = new Map<number, string>();
  for (const [i, bag] of bags.entries()) {
    try {
      await (await openBag(bag)).close();
    } catch (e) {
      if (!(e instanceof UserError)) throw e;
      unopenable.set(i, namesBag(e.message, bag) ? e.message : `${bag}: ${e.message}`);
    }
  }
  if (unopenable.size === bags.length) {
    if (bags.length === 1) throw new UserError(unopenable.get(0)!);
    for (const m of unopenable.values()) process.stderr.write(`ar1: ${m}\n`);
    return 2;
  }
  const engine = await loadEngine(bundle, providers, log, engineFactory);
  // Bags replayed at once share the engine's batched calls: their pending plans go in one planBatch call.
  const batcher = batch > 1 && engine.planBatch ? new PlanBatcher(engine, batch) : undefined;
  const results: ReplayResult[] = [];
  const failures: string[] = [];
  const unhandled = containUnhandled();
  // Bags run `batch` at a time (each replay has its own virtual time; while one bag's plan is in the engine, the other
  // bags' nodes, scoring and output encoding use the main thread). Results, headlines and the merged summary keep the
  // bags' order whatever order they finish in.
  const done: Array<{ result?: ReplayResult; failure?: string; headline?: string } | undefined> = new Array(
    bags.length,
  );
  let printed = 0;
  const flush = () => {
    while (printed < bags.length && done[printed]) {
      const d = done[printed++]!;
      if (d.result) results.push(d.result);
      if (d.failure !== undefined) failures.push(d.failure);
      if (d.headline !== undefined) process.stdout.write(d.headline);
    }
  };
  const dirs = bags.length === 1 ? [outDir] : outputDirs(bags).map((d) => join(outDir, d));
  const replayOne = (i: number): Promise<void> =>
    unhandled.run(async (callbackErrors) => {
      const bag = bags[i]!;
      const progress = progressReporter(bag, opts.json === true, batch > 1);
      const lane = batcher?.lane();
      try {
        if (unopenable.has(i)) throw new UserError(unopenable.get(i)!);
        const r = await replayBag({
          bagPath: bag,
          engine: lane ?? engine,
          paramsFiles: opts.params,
          outDir: dirs[i]!,
          seed,
          samples,
          latency,
          version: packageVersion(),
          // Bags at once: each log line names its bag.
          logger: batch > 1 && bags.length > 1 ? consoleLogger(`ar1 replay ${bag}`, opts.logLevel as 'warn') : log,
          onProgress: progress.update,
          writeBag: opts.outputBag,
          unhandledError: callbackErrors.take,
        });
        progress.stop();
        done[i] = { result: r, ...(opts.json !== true ? { headline: headline(r) } : {}) };
      } catch (e) {
        progress.stop();
        await removeReplayOutputs(dirs[i]!, bag).catch(() => undefined); // a bag that never opened: no stale reports
        // One line per failed bag whatever went wrong (a malformed bag can break a reader in unforeseen ways);
        // the other bags still run. The stack goes to the debug log.
        const message = e instanceof UserError ? e.message : errorMessage(e);
        if (!(e instanceof UserError)) log.debug(`${bag}: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
        const line = namesBag(message, bag) ? message : `${bag}: ${message}`;
        done[i] = { failure: line };
        process.stderr.write(`ar1: ${line}\n`);
        // A callback error raised before the bag failed otherwise: reported too, never dropped.
        const thrown = callbackErrors.take();
        if (thrown !== undefined)
          process.stderr.write(`ar1: ${bag}: a message could not be handled: ${errorMessage(thrown)}\n`);
      } finally {
        lane?.done();
        flush();
      }
    });
  try {
    let next = 0;
    await Promise.all(
      Array.from({ length: Math.min(batch, bags.length) }, async () => {
        while (next < bags.length) await replayOne(next++);
      }),
    );
  } finally {
    // Errors no bag could be charged with (raised outside every bag's replay, or after its bag had finished).
    for (const e of unhandled.takeOrphans()) {
      failures.push(`a message could not be handled: ${errorMessage(e)}`);
      process.stderr.write(`ar1: a message could not be handled outside a bag's replay: ${errorMessage(e)}\n`);
    }
    unhandled.restore();
    if (batcher) {
      const b = batcher.stats;
      log.info(`batched inference: ${b.plans} plans in ${b.batches} engine calls (at most ${b.largest} in one)`);
    }
    await engine.close();
  }
  if (results.length > 1) {
    await mkdir(outDir, { recursive: true });
    await writeFile(join(outDir, 'summary.json'), stableJson(mergeReports(results.map((r) => r.report))));
  }
  if (opts.json === true) {
    process.stdout.write(
      stableJson({
        bags: results.map((r) => ({ out: r.outDir, ...summary(r.report) })),
        failed: failures,
        merged: results.length > 1 ? join(outDir, 'summary.json') : undefined,
      }),
    );
  } else if (results.length > 1) {
    process.stdout.write(`merged summary of ${results.length} bags: ${join(outDir, 'summary.json')}\n`);
  }
  return failures.length ? 1 : 0;
}

/** Whether an error message already starts with the bag's path, as given or resolved. */
function namesBag(message: string, bag: string): boolean {
  return message.startsWith(bag) || message.startsWith(resolve(bag));
}

/**
 * One output folder name per bag, in the bags' order: the bag's name (its file or folder, without .mcap), and for a
 * name taken already the first free `name_k`. A bag named like another's suffixed folder ("a_1") keeps its name, so
 * two bags never share a folder.
 */
export function outputDirs(bags: readonly string[]): string[] {
  const bases = bags.map((bag) => basename(bag.replace(/\/+$/, '')).replace(/\.mcap$/, '') || 'bag');
  const taken = new Set<string>();
  const first = bases.map((b) => (taken.has(b) ? false : (taken.add(b), true)));
  return bases.map((b, i) => {
    if (first[i]) return b;
    let k = 1;
    while (taken.has(`${b}_${k}`)) k++;
    taken.add(`${b}_${k}`);
    return `${b}_${k}`;
  });
}

function summary(r: ReportJson) {
  return {
    bag: r.bag.path,
    frames: r.frames,
    plans: r.plans,
    ade: r.metrics.ade,
    fde: r.metrics.fde,
    min_ade: r.metrics.min_ade,
    watchdog_final_state: r.watchdog.final_state,
    transitions: r.watchdog.transitions.length,
    commands: r.commands,
    problems: r.bag.problems,
  };
}

/** A figure for the headline; absent or not finite (no plan ran: no compute time) prints n/a, never "NaN". */
const fmt = (v: number | null | undefined, d = 2) =>
  v === null || v === undefined || !Number.isFinite(v) ? 'n/a' : v.toFixed(d);

export function headline(r: ReplayResult): string {
  const p = r.report;
  const m = p.metrics;
  const dropped =
    Object.entries(p.frames.dropped)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ') || 'none';
  const lines = [
    `replayed ${p.bag.path} (${p.bag.duration_s.toFixed(1)} s) with ${p.bundle} on ${r.compute.provider}, latency ${p.latency_model.mode === 'fixed' ? `${p.latency_model.ms} ms` : 'measured'}`,
    `  frames     received ${p.frames.received}, planned ${p.frames.planned}, dropped ${dropped}`,
    `  plans      ${p.plans.published} published, ${p.plans.errors} errors`,
    ...(p.consistency ? [consistencyHeadline(p.consistency)] : []),
    `  ADE  [m]   1 s ${fmt(m.ade['1'])}  3 s ${fmt(m.ade['3'])}  6.4 s ${fmt(m.ade['6.4'])}   (plans scored at 6.4 s: ${m.plans_scored['6.4']})`,
    `  FDE  [m]   1 s ${fmt(m.fde['1'])}  3 s ${fmt(m.fde['3'])}  6.4 s ${fmt(m.fde['6.4'])}`,
    `  minADE${p.samples} [m] 6.4 s ${fmt(m.min_ade['6.4'])}`,
    `  watchdog   ${p.watchdog.transitions.map((t) => `${t.from}→${t.to}`).join(', ') || 'no transitions'}; final ${p.watchdog.final_state}`,
    `  commands   planner ${p.commands.planner}, fallback ${p.commands.fallback}, hold ${p.commands.hold}`,
    `  compute    total p50 ${fmt(r.compute.stages_ms['total']?.p50, 1)} ms, p99 ${fmt(r.compute.stages_ms['total']?.p99, 1)} ms`,
    ...p.bag.problems.map((x) => `  problem    ${x}`),
    `  report     ${r.files.html}`,
    `             ${r.files.report}, ${r.files.compute}`,
    `  output bag ${r.files.bag ?? 'not written (--no-output-bag)'}`,
  ];
  return lines.join('\n') + '\n';
}

/** A progress bar on a terminal; plain lines at 25 % steps otherwise (or with several bags at once); nothing with --json. */
function progressReporter(
  bag: string,
  quiet: boolean,
  plain = false,
): { update: (f: number) => void; stop: () => void } {
  if (quiet) return { update: () => {}, stop: () => {} };
  if (process.stderr.isTTY && !plain) {
    // one bar at a time: bags replayed at once print lines
    const bar = new cliProgress.SingleBar(
      { format: `replay ${basename(bag)} [{bar}] {percentage}% | eta {eta}s`, stream: process.stderr },
      cliProgress.Presets.shades_classic,
    );
    bar.start(100, 0);
    return { update: (f) => bar.update(Math.round(f * 100)), stop: () => bar.stop() };
  }
  let next = 0.25;
  return {
    update: (f) => {
      while (f >= next && next <= 1) {
        process.stderr.write(`replay ${bag}: ${Math.round(next * 100)} %\n`);
        next += 0.25;
      }
    },
    stop: () => {},
  };
}
