/**
 * Reporting, one of replay's three concerns (beside recording, outputRecorder.ts, and scoring,
 * replayEvaluation.ts): report.json (deterministic for a fixed latency), compute.json (measured times) and
 * report.html, built from what a replay produced and written into its output directory.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { PlanResult } from '../core/planningEngine.js';
import { nanosToSeconds } from '../core/time.js';
import { GroundTruthPath } from './groundTruth.js';
import type { PlanScore } from './metrics.js';
import {
  buildCompute,
  buildReport,
  stableJson,
  type ComputeJson,
  type ReplayOutcome,
  type ReportJson,
} from './report.js';
import type { CommandPoint, ReplayEvaluation } from './replayEvaluation.js';
import { renderReportHtml, type HtmlData, type Snapshot } from './reportHtml.js';

/** The report files' names in a replay's output folder. */
export const REPORT_FILE_NAMES: Readonly<ReportFiles> = {
  report: 'report.json',
  compute: 'compute.json',
  html: 'report.html',
};

export interface ReportFiles {
  report: string;
  compute: string;
  html: string;
}

/** Writes report.json, compute.json and report.html for one replayed bag into outDir. */
export async function writeReplayReports(
  outDir: string,
  outcome: ReplayOutcome,
  evaluation: ReplayEvaluation,
  span: { startNs: bigint; endNs: bigint },
): Promise<{ report: ReportJson; compute: ComputeJson; files: ReportFiles }> {
  const report = buildReport(outcome);
  const compute = buildCompute(outcome);
  const html = renderReportHtml({
    ...htmlData(
      report,
      compute,
      evaluation.compute['total']!,
      evaluation.scorer.snapshots(),
      evaluation.reasoningByT0,
      new GroundTruthPath([]),
      outcome.transitions,
      evaluation.commands,
      span.startNs,
      span.endNs,
    ),
    errorByStep: evaluation.scorer.errorByStep(),
  });
  const files = {
    report: join(outDir, REPORT_FILE_NAMES.report),
    compute: join(outDir, REPORT_FILE_NAMES.compute),
    html: join(outDir, REPORT_FILE_NAMES.html),
  };
  await writeFile(files.report, stableJson(report));
  await writeFile(files.compute, stableJson(compute));
  await writeFile(files.html, html);
  return { report, compute, files };
}

export function htmlData(
  report: ReportJson,
  compute: ComputeJson,
  totals: number[],
  scored: ReadonlyArray<{ score: PlanScore; result: PlanResult; actual?: Array<{ x: number; y: number } | null> }>,
  reasoning: Map<number, string>,
  truth: GroundTruthPath,
  transitions: Array<{ time_s: number; to: string }>,
  commands: readonly CommandPoint[],
  startNs: bigint,
  endNs: bigint,
): HtmlData {
  const startS = nanosToSeconds(startNs);
  const endS = nanosToSeconds(endNs);
  const picks = pickEvenly(scored, 8);
  const snapshots: Snapshot[] = picks.map(({ score, result, actual }) => ({
    t0S: result.t0S,
    reasoning: reasoning.get(result.t0S) ?? result.reasoning.text,
    v0: result.v0,
    samples: (result.samples.length ? result.samples : [result.trajectory]).map((s) => ({ x: s.x, y: s.y })),
    actual: actual ?? truth.futureInRigFrame(result.t0S, result.trajectory.t) ?? [],
    ade: score.ade['6.4'],
  }));
  const steps = scored[0]?.result.trajectory.t.length ?? 0;
  const t: number[] = [];
  const mean: Array<number | null> = [];
  for (let i = 0; i < steps; i++) {
    t.push(scored[0]!.result.trajectory.t[i]!);
    let s = 0;
    let c = 0;
    for (const { score } of scored) {
      const e = score.errorByStep[i]!;
      if (Number.isFinite(e)) {
        s += e;
        c++;
      }
    }
    mean.push(c ? s / c : null);
  }
  const states: HtmlData['timeline']['states'] = [];
  let state = 'disengaged';
  let from = startS;
  for (const tr of transitions) {
    states.push({ fromS: from, toS: tr.time_s, state });
    state = tr.to;
    from = tr.time_s;
  }
  states.push({ fromS: from, toS: endS, state });
  const stride = Math.max(1, Math.ceil(commands.length / 2500));
  return {
    report,
    compute,
    computeTotals: totals,
    snapshots,
    errorByStep: { t, mean },
    timeline: { startS, endS, states, commands: commands.filter((_, i) => i % stride === 0) },
  };
}

function pickEvenly<T>(items: readonly T[], k: number): T[] {
  if (items.length <= k) return [...items];
  return Array.from({ length: k }, (_, i) => items[Math.round((i * (items.length - 1)) / (k - 1))]!);
}
