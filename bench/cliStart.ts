/**
 * Benchmark 9, CLI start-up: wall time of `ar1 --version` (bin/ar1.js on the compiled dist/) against `node -e 0`,
 * alternated, median of each. Before the package shipped compiled JavaScript every run compiled TypeScript first.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { percentile, round } from './stats.js';

export interface CliStartFigures {
  runs: number;
  nodeMs: number;
  versionMs: number;
  ratio: number;
  helpMs: number;
}

const AR1 = fileURLToPath(new URL('../bin/ar1.js', import.meta.url));

function wallMs(args: string[]): number {
  const t = performance.now();
  const r = spawnSync(process.execPath, args, { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
  const ms = performance.now() - t;
  if (r.status !== 0)
    throw new Error(`cli start-up bench: node ${args.join(' ')} exited ${r.status}: ${r.stderr.trim()}`);
  return ms;
}

export function benchCliStart(runs: number): CliStartFigures {
  const node: number[] = [],
    version: number[] = [],
    help: number[] = [];
  wallMs(['-e', '0']);
  wallMs([AR1, '--version']); // warm the file cache
  for (let i = 0; i < runs; i++) {
    node.push(wallMs(['-e', '0']));
    version.push(wallMs([AR1, '--version']));
    if (i < 3) help.push(wallMs([AR1, '--help']));
  }
  const nodeMs = percentile(node, 50),
    versionMs = percentile(version, 50);
  return {
    runs,
    nodeMs: round(nodeMs),
    versionMs: round(versionMs),
    ratio: round(versionMs / nodeMs),
    helpMs: round(percentile(help, 50)),
  };
}
