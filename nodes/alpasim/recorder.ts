/**
 * `--record DIR`: for each session, the same outputs as `ar1 replay` (an output bag of every topic the nodes
 * published plus the odometry, report.json, compute.json and report.html) in DIR/<session>/, so an AlpaSim
 * rollout is reviewed with ar1's own report. Plans are scored against the egomotion AlpaSim sent.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { BusMessage } from '../adapters/inprocess/bus.js';
import { createBagWriter, type BagWriter } from '../adapters/mcap/index.js';
import type { PlanResult } from '../core/planningEngine.js';
import type { Logger } from '../core/logger.js';
import type { Odometry, Reasoning, Trajectory, UnicycleCommand } from '../core/msgs.js';
import { QOS_COMMAND } from '../core/qos.js';
import { stampToSeconds } from '../core/time.js';
import { yawFromQuaternion } from '../planner/egoHistory.js';
import type { PlannerParams } from '../planner/params.js';
import { ConsistencyCollector } from '../replay/consistencyReport.js';
import { GroundTruthPath, type PoseSample } from '../replay/groundTruth.js';
import { scorePlan, type PlanScore } from '../replay/metrics.js';
import { buildCompute, buildReport, stableJson, type ReplayOutcome } from '../replay/report.js';
import { renderReportHtml } from '../replay/reportHtml.js';
import type { LatencyModel } from '../replay/latencyModel.js';
import { htmlData } from '../replay/reportFiles.js';
import type { WatchdogParams } from '../watchdog/params.js';
import type { SessionSummary } from './session.js';

export interface RecorderOptions {
  dir: string;
  planner: PlannerParams;
  watchdog: WatchdogParams;
  version: string;
  bundleId: string;
  provider: () => string;
  samples: number;
  latency: LatencyModel;
  logger: Logger;
}

/** A directory name from a session id: characters outside [A-Za-z0-9._-] become "_". */
const sessionDirName = (uuid: string): string => uuid.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 128) || 'session';

const SOURCES = ['planner', 'fallback', 'hold'];

export function sessionRecorder(o: RecorderOptions, uuid: string, seed: number) {
  const outDir = join(o.dir, sessionDirName(uuid));
  const cameraTopics = new Set(o.planner.cameras.topics.map((t) => `${t.replace(/\/$/, '')}/compressed`));
  let writer: Promise<BagWriter> | undefined;
  const declared = new Set<string>();
  let chain: Promise<void> = Promise.resolve();
  let writeError: unknown;
  const poses: PoseSample[] = [];
  const published: Array<{ t0S: number }> = [];
  const reasoning = new Map<number, string>();
  const consistency = new ConsistencyCollector();
  const commands: Array<{ tS: number; accel: number; source: string }> = [];
  const results = new Map<number, PlanResult>();
  const compute: Record<string, number[]> = {
    preprocess: [],
    vision: [],
    reasoning: [],
    action: [],
    session_run: [],
    total: [],
  };

  const onPublished = (m: BusMessage) => {
    if (m.topic === o.planner.odometry.topic) {
      const odo = m.message as Odometry;
      const p = odo.pose.pose;
      poses.push({
        tS: stampToSeconds(odo.header.stamp),
        x: p.position.x,
        y: p.position.y,
        yaw: yawFromQuaternion(p.orientation),
      });
    } else if (m.topic === o.planner.topics.trajectory) {
      published.push({ t0S: stampToSeconds((m.message as Trajectory).header.stamp) });
      consistency.trajectory(m.message as Trajectory);
    } else if (m.topic === o.planner.topics.reasoning) {
      const r = m.message as Reasoning;
      reasoning.set(stampToSeconds(r.header.stamp), r.text);
      consistency.reasoning(r);
    } else if (m.topic === o.watchdog.topics.vehicle_command) {
      const c = m.message as UnicycleCommand;
      commands.push({ tS: m.timeMs / 1000, accel: c.acceleration, source: SOURCES[c.source] ?? String(c.source) });
    }
    if (cameraTopics.has(m.topic)) return; // kept small, as replay does: the images are AlpaSim's
    chain = chain.then(async () => {
      if (writeError) return;
      try {
        writer ??= mkdir(outDir, { recursive: true }).then(() => createBagWriter(join(outDir, 'bag')));
        const w = await writer;
        if (!declared.has(m.topic)) {
          declared.add(m.topic);
          await w.addTopic(m.topic, m.type, QOS_COMMAND);
        }
        await w.write(m.topic, BigInt(Math.round(m.timeMs * 1e6)), m.message);
      } catch (e) {
        writeError = e;
      }
    });
  };

  const onResult = (r: PlanResult) => {
    results.set(r.t0S, r);
    compute['preprocess']!.push(r.timing.preprocessMs);
    compute['vision']!.push(r.timing.visionMs);
    compute['reasoning']!.push(r.timing.reasoningMs);
    compute['action']!.push(r.timing.actionMs);
    compute['session_run']!.push(r.timing.sessionRunMs);
    compute['total']!.push(r.timing.totalMs);
  };

  const finish = async (s: SessionSummary): Promise<void> => {
    await chain;
    if (writeError) throw writeError;
    await mkdir(outDir, { recursive: true });
    writer ??= createBagWriter(join(outDir, 'bag'));
    const written = await (await writer).close();
    const truth = new GroundTruthPath(poses);
    const scored: Array<{ score: PlanScore; result: PlanResult }> = [];
    for (const p of published) {
      const r = results.get(p.t0S);
      if (!r) continue;
      const score = scorePlan(
        { t0S: r.t0S, t: r.trajectory.t, samples: r.samples.length ? r.samples : [r.trajectory] },
        truth,
      );
      if (score) scored.push({ score, result: r });
    }
    const startNs = BigInt(Math.round((s.span?.startMs ?? 0) * 1e6));
    const endNs = BigInt(Math.round((s.span?.endMs ?? 0) * 1e6));
    const refused = Object.entries(s.refused).filter(([, n]) => n > 0);
    const outcome: ReplayOutcome = {
      version: o.version,
      bag: {
        path: `alpasim session ${uuid}`,
        start_ns: startNs.toString(),
        duration_s: Number(endNs - startNs) / 1e9,
        messages: s.inputMessages,
        problems: refused.length
          ? [`images not given to the planner: ${refused.map(([k, n]) => `${k} ${n}`).join(', ')}`]
          : [],
      },
      bundleId: o.bundleId,
      provider: o.provider(),
      seed,
      samples: o.samples,
      latency: o.latency,
      frames: s.planner,
      plans: { published: published.length, errors: s.planErrors },
      consistency: consistency.summary(),
      scores: scored.map((x) => x.score),
      transitions: s.watchdogTransitions,
      finalState: s.watchdogFinalState,
      commands: s.commands,
      compute,
    };
    const report = buildReport(outcome);
    const computeJson = buildCompute(outcome);
    await writeFile(join(outDir, 'report.json'), stableJson(report));
    await writeFile(join(outDir, 'compute.json'), stableJson(computeJson));
    await writeFile(
      join(outDir, 'report.html'),
      renderReportHtml(
        htmlData(
          report,
          computeJson,
          compute['total']!,
          scored,
          reasoning,
          truth,
          s.watchdogTransitions,
          commands,
          startNs,
          endNs,
        ),
      ),
    );
    o.logger.info(`session ${uuid} recorded: ${written.file}, ${join(outDir, 'report.json')}`);
  };

  return { onPublished, onResult, finish };
}
