/** `ar1 report merge DIR…`: combines shard outputs into one report. */
import type { Command } from 'commander';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { writeFile } from 'node:fs/promises';
import { UserError } from '../core/errors.js';
import { mergeReports } from '../replay/merge.js';
import { stableJson, type ReportJson } from '../replay/report.js';
import type { RegisterCommand } from './command.js';

/** report.json files under a replay output directory: DIR/report.json, or DIR/<bag>/report.json for several bags. */
export function findReports(dir: string): string[] {
  if (!existsSync(dir) || !statSync(dir).isDirectory())
    throw new UserError(`${dir}: expected a replay output directory, found ${existsSync(dir) ? 'a file' : 'nothing'}`);
  const direct = join(dir, 'report.json');
  if (existsSync(direct)) return [direct];
  const nested = readdirSync(dir)
    .sort()
    .map((d) => join(dir, d, 'report.json'))
    .filter((f) => existsSync(f));
  if (nested.length === 0)
    throw new UserError(`${dir}: no report.json in it or in its subdirectories (is it an ar1 replay --out directory?)`);
  return nested;
}

/** [bytes] largest report.json read (a FIFO or a huge file is refused, never waited on). */
const MAX_REPORT_BYTES = 64 << 20;

export function readReport(file: string): ReportJson {
  const st = statSync(file);
  if (!st.isFile())
    throw new UserError(`${file}: expected a report.json file, got a FIFO, socket, device or directory`);
  if (st.size > MAX_REPORT_BYTES)
    throw new UserError(`${file}: expected a report.json of at most ${MAX_REPORT_BYTES} bytes, got ${st.size}`);
  let v: unknown;
  try {
    v = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new UserError(`${file}: not valid JSON (${(e as Error).message})`);
  }
  const problem = reportProblem(v);
  if (problem) throw new UserError(`${file}: ${problem} (an ar1 replay report.json)`);
  return v as ReportJson;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const show = (v: unknown): string => (v === undefined ? 'nothing' : (JSON.stringify(v)?.slice(0, 60) ?? String(v)));

/** What is wrong with a parsed report.json for merging: "<key>: expected …, got …", or undefined. */
export function reportProblem(v: unknown): string | undefined {
  if (!isObject(v)) return `expected a JSON object, got ${show(v)}`;
  const at = (path: string): unknown => path.split('.').reduce<unknown>((o, k) => (isObject(o) ? o[k] : undefined), v);
  const need = (path: string, ok: (x: unknown) => boolean, what: string): string | undefined =>
    ok(at(path)) ? undefined : `${path}: expected ${what}, got ${show(at(path))}`;
  const count = (x: unknown) => typeof x === 'number' && Number.isFinite(x) && x >= 0;
  const counts = (x: unknown) => isObject(x) && Object.values(x).every(count);
  const metric = (x: unknown) =>
    isObject(x) && Object.values(x).every((y) => y === null || (typeof y === 'number' && Number.isFinite(y)));
  const checks: Array<string | undefined> = [
    need('bag', isObject, 'an object'),
    need('bag.path', (x) => typeof x === 'string', 'a string'),
    need('frames.received', count, 'a count'),
    need('frames.planned', count, 'a count'),
    need('frames.dropped', counts, 'an object of counts'),
    need('plans.published', count, 'a count'),
    need('plans.errors', count, 'a count'),
    need('metrics.plans_scored', counts, 'an object of counts'),
    ...['ade', 'fde', 'min_ade', 'min_fde'].map((m) => need(`metrics.${m}`, metric, 'an object of numbers or null')),
    need('watchdog.final_state', (x) => typeof x === 'string', 'a string'),
    need(
      'watchdog.transitions',
      (x) => Array.isArray(x) && x.every((t) => isObject(t) && typeof t['to'] === 'string'),
      'a list of transitions',
    ),
    ...['planner', 'fallback', 'hold'].map((k) => need(`commands.${k}`, count, 'a count')),
    ...(at('consistency') === undefined
      ? []
      : [
          ...['plans', 'consistent', 'inconsistent', 'not_assessable'].map((k) =>
            need(`consistency.${k}`, count, 'a count'),
          ),
          need('consistency.inconsistent_plans', Array.isArray, 'a list'),
        ]),
  ];
  return checks.find((c) => c !== undefined);
}

export const register: RegisterCommand = (program: Command) => {
  const report = program.command('report').description('work with replay reports');
  report
    .command('merge')
    .description('merge the report.json files of replay output directories (e.g. one per shard) into one summary')
    .argument('<dir...>', 'replay output directories')
    .option('--out <file>', 'write the merged JSON here instead of stdout')
    .action(async (dirs: string[], opts: { out?: string }) => {
      const files = dirs.flatMap(findReports);
      const merged = mergeReports(files.map(readReport));
      if (opts.out) {
        try {
          await writeFile(opts.out, stableJson(merged));
        } catch (e) {
          throw new UserError(
            `--out: ${opts.out}: cannot write (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
          );
        }
        process.stderr.write(
          `merged ${files.length} reports (${merged.frames.received} frames, ${merged.plans.published} plans) into ${opts.out}\n`,
        );
      } else {
        process.stdout.write(stableJson(merged));
      }
    });
};
