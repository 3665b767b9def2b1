import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeDemoBundle } from '../../nodes/syntheticBundles/index.js';
import { makeSampleBag } from '../../nodes/replay/sampleBag.js';

const AR1 = fileURLToPath(new URL('../../bin/ar1.js', import.meta.url));
/** A child process, so that a read that blocks for ever fails this test by its timeout instead of freezing mocha. */
const ar1 = (...args: string[]) =>
  spawnSync(process.execPath, [AR1, ...args], {
    encoding: 'utf8',
    timeout: 30_000,
    env: { ...process.env, FORCE_COLOR: '0' },
  });
function refused(r: ReturnType<typeof ar1>, line: RegExp): void {
  expect(r.error, 'ended by itself (no wait on the FIFO)').to.equal(undefined);
  expect(r.stderr).not.to.match(/\n\s+at /);
  const lines = r.stderr.split('\n').filter((l) => l.startsWith('ar1: '));
  expect(lines, r.stderr).to.have.length(1);
  expect(lines[0]).to.match(line);
  expect(r.status, r.stderr).to.equal(2);
}

describe('bundles and bags: a FIFO, device or directory where a file belongs is refused, never waited on', function () {
  this.timeout(120_000);
  let dir: string;
  before(async function () {
    dir = mkdtempSync(join(tmpdir(), 'ar1-nonregular-'));
    if (spawnSync('mkfifo', [join(dir, 'probe')]).status !== 0) this.skip();
    makeDemoBundle(join(dir, 'bundle'));
    await makeSampleBag(join(dir, 'bag'), { durationS: 1, seed: 3 });
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** A copy of the bundle with `file` replaced by what `put` makes there. */
  function bundleWith(name: string, file: string, put: (path: string) => void): string {
    const b = join(dir, name);
    cpSync(join(dir, 'bundle'), b, { recursive: true });
    unlinkSync(join(b, file));
    put(join(b, file));
    return b;
  }
  const fifo = (p: string) => {
    expect(spawnSync('mkfifo', [p]).status).to.equal(0);
  };

  for (const file of ['manifest.yaml', 'action_expert.onnx', 'lm_decode.onnx.data', 'tokenizer.json']) {
    it(`${file} as a FIFO: ar1 model verify and ar1 replay end with one line naming it, exit 2`, () => {
      const b = bundleWith(`fifo-${file}`, file, fifo);
      const line = new RegExp(
        `^ar1: (--bundle \\S+: )?\\S*${file.replace(/\./g, '\\.')}: expected a regular file, got a FIFO$`,
      );
      refused(ar1('model', 'verify', b), line);
      refused(
        ar1(
          'replay',
          '--bag',
          join(dir, 'bag'),
          '--bundle',
          b,
          '--providers',
          'cpu',
          '--out',
          join(dir, `out-${file}`),
        ),
        line,
      );
    });
  }

  it('a graph that is a directory, a tokenizer that is a device (/dev/zero): one line each, exit 2', () => {
    refused(
      ar1(
        'model',
        'verify',
        bundleWith('dir-graph', 'vision_encoder.onnx', (p) => mkdirSync(p)),
      ),
      /vision_encoder\.onnx: expected a regular file, got a directory$/,
    );
    refused(
      ar1(
        'model',
        'verify',
        bundleWith('dev-tok', 'tokenizer.json', (p) => symlinkSync('/dev/zero', p)),
      ),
      /tokenizer\.json: expected a regular file, got a device$/,
    );
  });

  it('a FIFO named *.mcap in a bag directory, or as its metadata.yaml: ar1 bag info and ar1 replay end with one line, exit 2', () => {
    const withFifoFile = join(dir, 'bag-fifo');
    cpSync(join(dir, 'bag'), withFifoFile, { recursive: true });
    unlinkSync(join(withFifoFile, 'metadata.yaml'));
    fifo(join(withFifoFile, 'zz.mcap'));
    const withFifoMeta = join(dir, 'bag-fifo-meta');
    cpSync(join(dir, 'bag'), withFifoMeta, { recursive: true });
    unlinkSync(join(withFifoMeta, 'metadata.yaml'));
    fifo(join(withFifoMeta, 'metadata.yaml'));
    for (const [bag, name] of [
      [withFifoFile, 'zz\\.mcap'],
      [withFifoMeta, 'metadata\\.yaml'],
    ] as const) {
      const line = new RegExp(`^ar1: \\S+/${name}: expected a regular file, got a FIFO$`);
      refused(ar1('bag', 'info', bag), line);
      refused(
        ar1(
          'replay',
          '--bag',
          bag,
          '--bundle',
          join(dir, 'bundle'),
          '--providers',
          'cpu',
          '--out',
          join(dir, `out-${name}`),
        ),
        line,
      );
    }
  });
});
