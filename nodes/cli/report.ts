/** `ar1 report merge DIR…`: combines shard outputs into one report. */
import type { Command } from 'commander';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { writeFile } from 'node:fs/promises';
import { UserError } from '../core/errors.js';
import { mergeReports } from '../replay/merge.js';
import { stableJson, type ReportJson } from '../replay/report.js';
import type { RegisterCommand } from './main.js';

/** report.json files under a replay output directory: DIR/report.json, or DIR/<bag>/report.json for several bags. */
export function findReports(dir: string): string[] {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new UserError(`${dir}: expected a replay output directory, found ${existsSync(dir) ? 'a file' : 'nothing'}`);
  const direct = join(dir, 'report.json');
  if (existsSync(direct)) return [direct];
  const nested = readdirSync(dir).sort().map((d) => join(dir, d, 'report.json')).filter((f) => existsSync(f));
  if (nested.length === 0) throw new UserError(`${dir}: no report.json in it or in its subdirectories (is it an ar1 replay --out directory?)`);
  return nested;
}

export function readReport(file: string): ReportJson {
  let v: unknown;
  try { v = JSON.parse(readFileSync(file, 'utf8')); } catch (e) { throw new UserError(`${file}: not valid JSON (${(e as Error).message})`); }
  const r = v as Partial<ReportJson>;
  for (const key of ['bag', 'frames', 'metrics', 'watchdog', 'commands', 'plans'] as const) {
    if (typeof r[key] !== 'object' || r[key] === null) throw new UserError(`${file}: ${key}: expected an object (an ar1 replay report.json), got ${JSON.stringify(r[key])}`);
  }
  return v as ReportJson;
}

export const register: RegisterCommand = (program: Command) => {
  const report = program.command('report').description('work with replay reports');
  report.command('merge')
    .description('merge the report.json files of replay output directories (e.g. one per shard) into one summary')
    .argument('<dir...>', 'replay output directories')
    .option('--out <file>', 'write the merged JSON here instead of stdout')
    .action(async (dirs: string[], opts: { out?: string }) => {
      const files = dirs.flatMap(findReports);
      const merged = mergeReports(files.map(readReport));
      if (opts.out) {
        await writeFile(opts.out, stableJson(merged));
        process.stderr.write(`merged ${files.length} reports (${merged.frames.received} frames, ${merged.plans.published} plans) into ${opts.out}\n`);
      } else {
        process.stdout.write(stableJson(merged));
      }
    });
};
