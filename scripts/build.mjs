#!/usr/bin/env node
// Builds dist/ (the JavaScript and type declarations that bin/ar1.js and `import('ar1-ros')` run) from nodes/:
//   1. `tsc -b tsconfig.build.json --noCheck`: emit only (JavaScript and declarations), incremental, a no-op in
//      ~0.2 s when nothing changed since the last build. Type checking is `npm test`'s first step (tsc --noEmit over
//      nodes/, test/ and bench/); here it would only repeat it, and an install with --omit=dev (the colcon package)
//      lacks most @types packages;
//   2. copies the non-TypeScript files the code reads next to itself (.proto files, JSON schemas) into dist/.
// dist/ mirrors nodes/ at the same depth below the package root, so paths like '../../config/x' resolve alike
// from the source and the build. Run by `npm test`, `npm run demo`, the test suite's set-up and the colcon install.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
let tsc;
try {
  tsc = createRequire(join(root, 'package.json')).resolve('typescript/bin/tsc');
} catch {
  console.error(`ar1 build: ${join(root, 'node_modules', 'typescript')}: not found (run npm ci in ${root} first)`);
  process.exit(2);
}
const r = spawnSync(process.execPath, [tsc, '-b', join(root, 'tsconfig.build.json'), '--noCheck'], {
  stdio: 'inherit',
});
if (r.status !== 0) {
  console.error(`ar1 build: tsc -b tsconfig.build.json --noCheck failed (exit ${r.status ?? r.signal})`);
  process.exit(r.status || 1);
}

const src = join(root, 'nodes');
const out = join(root, 'dist');
const isAsset = (name) => !name.endsWith('.ts') && !name.endsWith('.md') && !name.endsWith('.mjs');
(function copyAssets(dir) {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const from = join(dir, e.name);
    if (e.isDirectory()) {
      copyAssets(from);
      continue;
    }
    if (!e.isFile() || !isAsset(e.name)) continue;
    const to = join(out, relative(src, from));
    let stale = true;
    try {
      stale = statSync(to).mtimeMs < statSync(from).mtimeMs;
    } catch {
      /* not copied yet */
    }
    if (!stale) continue;
    mkdirSync(dirname(to), { recursive: true });
    copyFileSync(from, to);
  }
})(src);
