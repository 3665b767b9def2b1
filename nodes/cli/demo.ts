/** `ar1 demo`: the sample drive and the demo bundle, made on first use, replayed end to end. */
import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RegisterCommand } from './main.js';
import { runReplayCli } from './replay.js';

export const SAMPLE_PARAMS = fileURLToPath(new URL('../../config/sample_bag.yaml', import.meta.url));

export const register: RegisterCommand = (program: Command) => {
  program.command('demo')
    .description('replay the built-in sample drive with the demo bundle (made on first use in --dir); no ROS, no network')
    .option('--dir <dir>', 'where the sample bag, demo bundle and results live', '.demo')
    .option('--samples <k>', 'trajectory samples per plan (minADE over K)', '6')
    .option('--json', 'print the summary as JSON')
    .action(async (opts: { dir: string; samples: string; json?: boolean }) => {
      const dir = resolve(opts.dir);
      const bundle = join(dir, 'bundle');
      const bag = join(dir, 'sample_drive');
      const say = (s: string) => { if (opts.json !== true) process.stderr.write(s + '\n'); };
      if (!existsSync(join(bundle, 'manifest.yaml'))) {
        say(`making the demo bundle in ${relative(process.cwd(), bundle) || bundle} …`);
        const { makeDemoBundle } = await import('../engine/index.js');
        makeDemoBundle(bundle);
      }
      if (!existsSync(join(bag, 'metadata.yaml'))) {
        say(`making the sample drive (20 s, 4 cameras, odometry) in ${relative(process.cwd(), bag) || bag} …`);
        const { makeSampleBag } = await import('../replay/sampleBag.js');
        await makeSampleBag(bag);
      }
      process.exitCode = await runReplayCli({
        bag: [bag], bundle, params: [SAMPLE_PARAMS], out: join(dir, 'replay'), seed: '0', samples: opts.samples,
        latency: '100', providers: 'cpu', json: opts.json === true, logLevel: 'warn',
      });
    });
};
