/**
 * The watchdog world soak: N seeded adversarial worlds (test/faults/worlds.ts), default 20 000.
 *   npm run soak:watchdog [-- <worlds> <seed>]    or    node --import tsx test/faults/soakWorlds.ts <worlds> <seed>
 * Prints progress on stderr, one JSON line on stdout (worlds, vehicle commands, violations with the failing world),
 * and exits 1 when any invariant broke. WORLDS_SEED=<n> is the default seed.
 */
import fc from 'fast-check';
import { runWorld, worldArb, type WorldSpec } from './worlds.js';

export interface WorldSoakResult {
  worlds: number;
  seed: number;
  commands: number;
  plannerCommands: number;
  failures: Array<{ index: number; violations: string[]; world: WorldSpec }>;
  wallS: number;
}

export async function soakWorlds(
  worlds: number,
  seed: number,
  progress?: (done: number) => void,
): Promise<WorldSoakResult> {
  const started = performance.now();
  const out: WorldSoakResult = { worlds, seed, commands: 0, plannerCommands: 0, failures: [], wallS: 0 };
  // Batches of 1 000 from consecutive seeds keep memory flat (fc.sample materialises its batch).
  for (let done = 0; done < worlds;) {
    const n = Math.min(1000, worlds - done);
    const batch = fc.sample(worldArb, { numRuns: n, seed: seed + done });
    for (let i = 0; i < batch.length; i++) {
      const r = await runWorld(batch[i]!);
      out.commands += r.commands;
      out.plannerCommands += r.plannerCommands;
      if (r.violations.length && out.failures.length < 10)
        out.failures.push({ index: done + i, violations: r.violations, world: batch[i]! });
    }
    done += n;
    progress?.(done);
  }
  out.wallS = Math.round((performance.now() - started) / 100) / 10;
  return out;
}

const isMain = process.argv[1] !== undefined && import.meta.url === new URL(`file://${process.argv[1]}`).href;
if (isMain) {
  const worlds = Number(process.argv[2] ?? 20_000);
  const seed = Number(process.argv[3] ?? process.env['WORLDS_SEED'] ?? 1);
  const r = await soakWorlds(worlds, seed, (d) => process.stderr.write(`watchdog worlds: ${d}/${worlds}\n`));
  process.stdout.write(JSON.stringify(r) + '\n');
  process.exitCode = r.failures.length ? 1 : 0;
}
