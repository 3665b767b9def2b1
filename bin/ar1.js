#!/usr/bin/env node
// The `ar1` command: runs the JavaScript compiled from nodes/ into dist/ (scripts/build.mjs; `npm test`,
// `npm run demo` and the colcon install build it), so starting it compiles nothing.
import { readFileSync } from 'node:fs';

const argv = process.argv.slice(2);
if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-V')) {
  // Answered before loading the subcommands (onnxruntime, sharp, rclnodejs, grpc: ~0.7 s of module loading);
  // the same text as the full program's --version.
  console.log(JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version);
} else {
  let main;
  try {
    ({ main } = await import('../dist/cli/main.js'));
  } catch (e) {
    if (e?.code !== 'ERR_MODULE_NOT_FOUND' || !String(e.message).includes('/dist/cli/main.js')) throw e;
    const root = new URL('..', import.meta.url).pathname;
    console.error(`ar1: ${root}dist/cli/main.js: not built (run npm run build in ${root})`);
    process.exit(2);
  }
  process.exitCode = await main(argv);
}
