/** `ar1 model verify DIR` and `ar1 model make-demo DIR [--image-size HxW] [--large]`. */
import type { Command } from 'commander';
import { UserError } from '../core/errors.js';
import { makeDemoBundle } from '../engine/demoBundle.js';
import { GRAPH_ROLES } from '../engine/manifest.js';
import type { Manifest } from '../engine/manifest.js';
import { fmtShape, verifyBundle } from '../engine/verifyBundle.js';
import type { RegisterCommand } from './main.js';

export const register: RegisterCommand = (program: Command) => {
  const model = program.command('model').description('AR1 model bundles: verify, make the demo bundle');
  model
    .command('verify')
    .argument('<dir>', 'bundle directory (manifest.yaml + ONNX graphs + tokenizer.json)')
    .description('check every file hash and every graph\'s inputs/outputs against the manifest; print a summary')
    .action((dir: string) => {
      const v = verifyBundle(dir);
      process.stdout.write(summary(v.manifest));
    });
  model
    .command('make-demo')
    .argument('<dir>', 'output directory (created)')
    .description('write the generated demo bundle (AR1 I/O contract at reduced sizes; not a trained model)')
    .option('--image-size <HxW>', 'native frame size the bundle accepts, height x width', '180x320')
    .option('--large', 'heavier vision graph at 320x576 model size (benchmarks)', false)
    .action((dir: string, opts: { imageSize: string; large: boolean }) => {
      const { height, width } = parseImageSize(opts.imageSize);
      const m = makeDemoBundle(dir, { imageHeight: height, imageWidth: width, large: opts.large });
      process.stdout.write(`wrote ${dir}\n` + summary(m));
    });
};

export function parseImageSize(s: string): { height: number; width: number } {
  const m = /^(\d+)x(\d+)$/.exec(s.trim());
  if (!m || Number(m[1]) < 16 || Number(m[2]) < 16) throw new UserError(`--image-size: expected HxW with both ≥ 16 (e.g. 1080x1920), got "${s}"`);
  return { height: Number(m[1]), width: Number(m[2]) };
}

function summary(m: Manifest): string {
  const lines = [
    `bundle ${m.bundle.id}@${m.bundle.version}${m.bundle.description ? ` — ${m.bundle.description}` : ''}`,
    `cameras ${m.cameras.names.join(', ')}; ${m.cameras.framesPerCamera} frames each, ${m.cameras.frameSpacingS} s apart`,
    `image native ${m.image.native.height}x${m.image.native.width} → model ${m.image.model.height}x${m.image.model.width} (preprocess on ${m.image.preprocess})`,
    `history ${m.history.steps} poses @ ${m.history.dtS} s; trajectory ${m.trajectory.steps} steps @ ${m.trajectory.dtS} s; flow steps ${m.action.flowSteps}`,
    `sampling temperature ${m.sampling.temperature}, top-p ${m.sampling.topP}, max ${m.sampling.maxTokens} tokens`,
    'graphs:',
    ...GRAPH_ROLES.map((r) => {
      const g = m.graphs[r];
      const io = (ts: typeof g.inputs) => ts.map((t) => `${t.name} ${t.dtype}${fmtShape(t.shape)}`).join(', ');
      return `  ${r.padEnd(15)} ${g.file}: ${io(g.inputs)} → ${io(g.outputs)}`;
    }),
    `files: ${Object.entries(m.files).map(([f, v]) => `${f} (${v.bytes} B)`).join(', ')}`,
    'sha256 OK, graph I/O OK',
  ];
  return lines.join('\n') + '\n';
}
