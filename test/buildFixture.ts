/**
 * Mocha global set-up: brings dist/ up to date (scripts/build.mjs, a ~0.3 s no-op when nothing changed), so the
 * tests that spawn bin/ar1.js run the JavaScript built from the sources under test, also when mocha is run directly
 * on a few files.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export function mochaGlobalSetup(): void {
  const script = fileURLToPath(new URL('../scripts/build.mjs', import.meta.url));
  const r = spawnSync(process.execPath, [script], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`scripts/build.mjs failed (exit ${r.status}):\n${r.stdout}${r.stderr}`);
}
