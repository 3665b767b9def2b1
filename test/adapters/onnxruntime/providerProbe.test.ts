import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { probeProvider } from '../../../nodes/adapters/onnxruntime/ort.js';
import { makeDemoBundle } from '../../../nodes/syntheticBundles/index.js';
import { makeSampleBag } from '../../../nodes/replay/sampleBag.js';

const AR1 = fileURLToPath(new URL('../../../bin/ar1.js', import.meta.url));
const PARAMS = fileURLToPath(new URL('../../../config/sample_bag.yaml', import.meta.url));
/** The CUDA provider's libraries sit beside the binding when installed (ONNXRUNTIME_NODE_INSTALL=cuda12). */
const ORT_BIN = join(
  dirname(createRequire(import.meta.url).resolve('onnxruntime-node')),
  '..',
  'bin',
  'napi-v6',
  process.platform,
  process.arch,
);
const cudaInstalled = existsSync(join(ORT_BIN, 'libonnxruntime_providers_cuda.so'));

describe('onnxruntime: execution providers are probed quietly', function () {
  this.timeout(60_000);
  let dir: string;
  before(async function () {
    if (cudaInstalled) this.skip(); // with the CUDA libraries present there is no fallback to observe
    dir = mkdtempSync(join(tmpdir(), 'ar1-probe-'));
    makeDemoBundle(join(dir, 'bundle'));
    await makeSampleBag(join(dir, 'bag'), { durationS: 1, seed: 3 });
  });
  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("probeProvider: cpu works; cuda without its libraries is refused with onnxruntime's reason", async () => {
    expect(await probeProvider('cpu')).to.equal(undefined);
    expect(await probeProvider('cuda')).to.match(/Cuda.*Failed to load/);
  });

  it('a CPU run with --providers cuda,cpu prints no [E:onnxruntime…] error, and the fallback once, as a warning', () => {
    const r = spawnSync(
      process.execPath,
      [
        AR1,
        'replay',
        '--bag',
        join(dir, 'bag'),
        '--bundle',
        join(dir, 'bundle'),
        '--params',
        PARAMS,
        '--providers',
        'cuda,cpu',
        '--out',
        join(dir, 'out'),
      ],
      { encoding: 'utf8', env: { ...process.env, FORCE_COLOR: '0' } },
    );
    expect(r.status, r.stderr).to.equal(0);
    const all = r.stdout + r.stderr;
    expect(all).not.to.match(/\[E:onnxruntime/);
    expect(all).not.to.match(/\[W:onnxruntime/);
    const lines = all.split('\n').filter((l) => /execution provider/.test(l));
    expect(lines, all).to.have.length(1);
    expect(lines[0]).to.match(/^\[WARN\] .*execution provider fallback to cpu: cuda: /);
    expect(r.stdout).to.match(/ on cpu, /);
  });
});
