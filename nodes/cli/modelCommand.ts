/** `ar1 model verify DIR`, `ar1 model make-demo DIR [--image-size HxW] [--large]`, `ar1 model make-tiny DIR [--layers N] [--form split|fused]`. */
import type { Command } from 'commander';
import { UserError } from '../core/errors.js';
import { makeDemoBundle } from '../syntheticBundles/demoBundle.js';
import { makeTinyAr1Bundle } from '../syntheticBundles/tinyAr1Bundle.js';
import type { Manifest } from '../bundle/manifest.js';
import { manifestSha256 } from '../bundle/manifestPin.js';
import { fmtShape, verifyBundle } from '../bundle/verifyBundle.js';
import type { RegisterCommand } from './command.js';
import { silentLogger } from '../core/logger.js';

const round1 = (v: number): number => Math.round(v * 10) / 10;
function fmtBytes(b: number): string {
  if (b >= 1 << 30) return `${(b / (1 << 30)).toFixed(2)} GiB`;
  if (b >= 1 << 20) return `${(b / (1 << 20)).toFixed(1)} MiB`;
  return `${(b / 1024).toFixed(1)} KiB`;
}

export const register: RegisterCommand = (program: Command) => {
  const model = program.command('model').description('AR1 model bundles: verify, make the demo bundle');
  model
    .command('verify')
    .argument('<dir>', 'bundle directory (manifest.yaml + ONNX graphs + tokenizer.json)')
    .description(
      "check every file hash (streamed) and every graph's inputs/outputs against the manifest, load the graphs; print a summary with hash throughput and load time",
    )
    .option('--providers <list>', 'execution providers to load with, in order (comma-separated)', 'cpu')
    .option('--no-load', 'verify hashes and graph I/O only; do not create onnxruntime sessions')
    .option('--json', 'print one JSON object instead of the summary', false)
    .action(async (dir: string, opts: { providers: string; load: boolean; json: boolean }) => {
      const v = await verifyBundle(dir, { now: () => performance.now() }); // hash timing, read at the CLI
      const manifestDigest = manifestSha256(dir);
      let load: { provider: string; loadMs: number } | undefined;
      if (opts.load) {
        const { createSessions } = await import('../adapters/onnxruntime/ort.js');
        const providers = opts.providers
          .split(',')
          .map((p) => p.trim())
          .filter((p) => p !== '');
        try {
          const s = await createSessions(v.graphPaths, providers, silentLogger);
          load = { provider: s.provider, loadMs: s.loadMs };
          await s.release();
        } catch (e) {
          throw new UserError(`${dir}: the graphs verify but onnxruntime cannot load them: ${(e as Error).message}`);
        }
      }
      const peakRssBytes = process.resourceUsage().maxRSS * 1024;
      const st = v.stats;
      const mbps = st.hashMs > 0 ? st.bytes / 1e6 / (st.hashMs / 1e3) : 0;
      if (opts.json) {
        process.stdout.write(
          JSON.stringify({
            bundle: `${v.manifest.bundle.id}@${v.manifest.bundle.version}`,
            ok: true,
            files: st.files,
            bytes: st.bytes,
            hashMs: round1(st.hashMs),
            hashMBps: round1(mbps),
            provider: load?.provider ?? null,
            loadMs: load ? round1(load.loadMs) : null,
            peakRssBytes,
            manifestSha256: manifestDigest,
          }) + '\n',
        );
        return;
      }
      process.stdout.write(
        summary(v.manifest) +
          `hashed ${st.files} files, ${fmtBytes(st.bytes)} in ${(st.hashMs / 1e3).toFixed(2)} s (${mbps.toFixed(0)} MB/s)\n` +
          `manifest sha256 ${manifestDigest} (pin it: planner parameter manifest_sha256)\n` +
          (load
            ? `loaded on ${load.provider} in ${(load.loadMs / 1e3).toFixed(2)} s; peak RSS ${fmtBytes(peakRssBytes)}\n`
            : 'not loaded (--no-load)\n'),
      );
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
  model
    .command('make-tiny')
    .argument('<dir>', 'output directory (created)')
    .description(
      "write the tiny AR1 bundle: AR1's topology (deepstack vision, GQA decoder with rotary positions and a per-layer fp16 cache, expert attending to it) at tiny sizes, random weights",
    )
    .option('--layers <n>', 'decoder and expert layers', '2')
    .option(
      '--form <form>',
      'split (one graph per stage) or fused (reasoning and flow loops inside one graph)',
      'split',
    )
    .action((dir: string, opts: { layers: string; form: string }) => {
      const layers = Number(opts.layers);
      if (!Number.isInteger(layers) || layers < 1 || layers > 64)
        throw new UserError(`--layers: expected an integer in [1, 64], got "${opts.layers}"`);
      if (opts.form !== 'split' && opts.form !== 'fused')
        throw new UserError(`--form: expected split or fused, got "${opts.form}"`);
      const m = makeTinyAr1Bundle(dir, { layers, form: opts.form });
      process.stdout.write(`wrote ${dir}\n` + summary(m));
    });
};

export function parseImageSize(s: string): { height: number; width: number } {
  const m = /^(\d+)x(\d+)$/.exec(s.trim());
  // Bounded above too: every plan holds 16 frames of H×W×3 bytes, so 100000x100000 (30 GB a frame) is a mistake.
  if (!m || Number(m[1]) < 16 || Number(m[2]) < 16 || Number(m[1]) > 4320 || Number(m[2]) > 7680) {
    throw new UserError(`--image-size: expected HxW with 16 ≤ H ≤ 4320 and 16 ≤ W ≤ 7680 (e.g. 1080x1920), got "${s}"`);
  }
  return { height: Number(m[1]), width: Number(m[2]) };
}

function summary(m: Manifest): string {
  const lines = [
    `bundle ${m.bundle.id}@${m.bundle.version}${m.bundle.description ? ` — ${m.bundle.description}` : ''}`,
    `cameras ${m.cameras.names.join(', ')}; ${m.cameras.framesPerCamera} frames each, ${m.cameras.frameSpacingS} s apart`,
    `image native ${m.image.native.height}x${m.image.native.width} → model ${m.image.model.height}x${m.image.model.width} (preprocess on ${m.image.preprocess})`,
    `history ${m.history.steps} poses @ ${m.history.dtS} s; trajectory ${m.trajectory.steps} steps @ ${m.trajectory.dtS} s; flow steps ${m.action.flowSteps}`,
    `form ${m.form}; language model ${m.lm.layers} layers, cache ${m.lm.cacheDtype} [batch, ${m.lm.kvHeads}, positions, ${m.lm.headDim}] per layer; vision ${m.vision.grid.join('x')} tokens per image, ${m.vision.deepstack} deepstack`,
    `sampling temperature ${m.sampling.temperature}, top-p ${m.sampling.topP}, max ${m.sampling.maxTokens} tokens`,
    'graphs:',
    ...Object.entries(m.graphs).map(([r, g]) => {
      const io = (ts: typeof g.inputs) => ts.map((t) => `${t.name} ${t.dtype}${fmtShape(t.shape)}`).join(', ');
      const batch = g.maxBatch > 1 ? ` (up to ${g.maxBatch} plans per run)` : '';
      return `  ${r.padEnd(15)} ${g.file}: ${io(g.inputs)} → ${io(g.outputs)}${batch}`;
    }),
    `files: ${Object.entries(m.files)
      .map(([f, v]) => `${f} (${v.bytes} B)`)
      .join(', ')}`,
    'sha256 OK, graph I/O OK',
  ];
  return lines.join('\n') + '\n';
}
