/**
 * `ar1 demo`: the sample drive and the demo bundle, made on first use (the bundle made again when it came from another
 * version), replayed end to end; then the shipped course (the curve and the barrier stop) driven closed loop by
 * `ar1 sim`, with its verdict.
 */
import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RegisterCommand } from './command.js';
import { runReplayCli } from './replayCommand.js';
import { runSimCli } from './simCommand.js';

export const SAMPLE_PARAMS = fileURLToPath(new URL('../../config/sample_bag.yaml', import.meta.url));
/** The course `ar1 demo` drives closed loop. */
export const DEMO_COURSE = ['curve.yaml', 'barrier_stop.yaml'].map((f) =>
  fileURLToPath(new URL(`../../config/scenarios/${f}`, import.meta.url)),
);

export const register: RegisterCommand = (program: Command) => {
  program
    .command('demo')
    .description(
      'replay the built-in sample drive with the demo bundle (made on first use in --dir), then drive the shipped course closed loop (ar1 sim); no ROS, no network',
    )
    .option('--dir <dir>', 'where the sample bag, demo bundle and results live', '.demo')
    .option('--samples <k>', 'trajectory samples per plan (minADE over K)', '6')
    .option('--json', 'print the summary as JSON')
    .action(async (opts: { dir: string; samples: string; json?: boolean }) => {
      const dir = resolve(opts.dir);
      const bundle = join(dir, 'bundle');
      const bag = join(dir, 'sample_drive');
      const say = (s: string) => {
        if (opts.json !== true) process.stderr.write(s + '\n');
      };
      const { ensureDemoBundle } = await import('../syntheticBundles/demoBundleDir.js');
      const made = ensureDemoBundle(bundle);
      const shown = relative(process.cwd(), bundle) || bundle;
      if (made === 'made') say(`made the demo bundle in ${shown}`);
      if (made === 'remade') say(`remade the demo bundle in ${shown}: the one there came from another version`);
      if (!existsSync(join(bag, 'metadata.yaml'))) {
        say(`making the sample drive (20 s, 4 cameras, odometry) in ${relative(process.cwd(), bag) || bag} …`);
        const { makeSampleBag } = await import('../replay/sampleBag.js');
        await makeSampleBag(bag);
      }
      const replayed = await runReplayCli({
        bag: [bag],
        bundle,
        params: [SAMPLE_PARAMS],
        out: join(dir, 'replay'),
        outputBag: true,
        seed: '0',
        samples: opts.samples,
        latency: '100',
        providers: 'cpu',
        json: opts.json === true,
        logLevel: 'warn',
      });
      // Closed loop on the shipped course; with --json stdout stays replay's one document (the verdicts go to
      // <dir>/sim/summary.json).
      say('driving the course closed loop (ar1 sim: the curve, the barrier stop) …');
      const simulated = await runSimCli({
        scenario: DEMO_COURSE,
        bundle,
        params: [],
        out: join(dir, 'sim'),
        seed: '0',
        latency: '100',
        providers: 'cpu',
        json: false,
        quiet: opts.json === true,
        logLevel: 'warn',
      });
      process.exitCode = replayed || simulated;
    });
};
