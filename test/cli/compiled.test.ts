import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { estimateInitialSpeed } from '../../nodes/index.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const AR1 = join(ROOT, 'bin', 'ar1.js');
/** Plain Node: no tsx loader (mocha's own node-option does not reach a spawned child's argv). */
const plainNode = (args: string[], cwd = ROOT) =>
  spawnSync(process.execPath, args, { cwd, encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });

function tsSources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return tsSources(p);
    return e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [p] : [];
  });
}

describe('compiled JavaScript: the package as users run it', function () {
  this.timeout(60000);

  it('dist/ holds a .js and a .d.ts for every TypeScript source under nodes/, at the same depth', () => {
    const missing = tsSources(join(ROOT, 'nodes'))
      .map((f) => relative(join(ROOT, 'nodes'), f).replace(/\.ts$/, ''))
      .filter((f) => !existsSync(join(ROOT, 'dist', `${f}.js`)) || !existsSync(join(ROOT, 'dist', `${f}.d.ts`)));
    expect(missing).to.deep.equal([]);
  });

  it('plain Node imports the package by name (exports → dist/index.js) with its public API', () => {
    const r = plainNode([
      '--input-type=module',
      '-e',
      "const m = await import('ar1-ros'); console.log(JSON.stringify([typeof m.createOnnxEngine, typeof m.startPlanner, m.estimateInitialSpeed({ x: Float64Array.from({ length: 16 }, (_, i) => (i - 15) * 3), y: new Float64Array(16), yaw: new Float64Array(16) }, 0.1)]))",
    ]);
    expect(r.status, r.stderr).to.equal(0);
    // The compiled function computes what the TypeScript source does.
    const v0 = estimateInitialSpeed(
      {
        x: Float64Array.from({ length: 16 }, (_, i) => (i - 15) * 3),
        y: new Float64Array(16),
        yaw: new Float64Array(16),
      },
      0.1,
    );
    expect(JSON.parse(r.stdout)).to.deep.equal(['function', 'function', v0]);
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
      exports: { '.': { types: string; default: string } };
    };
    expect(existsSync(join(ROOT, pkg.exports['.'].types))).to.equal(true);
  });

  it("ar1 --version prints package.json's version, as the full program does", () => {
    const version = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
    for (const flag of ['--version', '-V']) {
      const r = plainNode([AR1, flag]);
      expect(r.status, r.stderr).to.equal(0);
      expect(r.stdout).to.equal(`${version}\n`);
    }
    // The full program (commander) answers the same when --version comes with other arguments.
    const full = plainNode([AR1, '--version', 'replay']);
    expect(full.stdout).to.equal(`${version}\n`);
  });

  it('without a build, bin/ar1.js says so in one line and exits 2', () => {
    const tmp = mkdtempSync(join(tmpdir(), 'ar1-nobuild-'));
    try {
      mkdirSync(join(tmp, 'bin'));
      copyFileSync(AR1, join(tmp, 'bin', 'ar1.js'));
      const r = plainNode([join(tmp, 'bin', 'ar1.js'), 'replay', '--help']);
      expect(r.status).to.equal(2);
      expect(r.stderr.trim().split('\n')).to.have.length(1);
      expect(r.stderr).to.match(/dist\/cli\/main\.js: not built \(run npm run build in /);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});
