/**
 * Benchmark 10, closed-loop simulation speed: simulated seconds per wall second of `ar1 sim` on the curve with the
 * demo model, with the cameras rendered and without (flat grey frames), outputs written as the CLI writes them. What
 * limits it: the same run's wall time split into the model (engine.plan wall time), the camera rendering (the same
 * number of frames rendered alone) and the rest (the two nodes, the bus, the vehicle model, the bag and reports).
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PlanInput, PlanningEngine, PlanResult } from '../nodes/core/planningEngine.js';
import { renderCamera } from '../nodes/replay/sample/scene.js';
import { SAMPLE_CAMERAS } from '../nodes/replay/sampleBag.js';
import { runScenario } from '../nodes/sim/runner.js';
import { loadScenario } from '../nodes/sim/scenario.js';
import { sceneOf, warmupState } from '../nodes/sim/world.js';
import { round } from './stats.js';

export const SIM_SCENARIO = fileURLToPath(new URL('../config/scenarios/curve.yaml', import.meta.url));

export interface SimFigures {
  render: boolean;
  simulatedS: number;
  wallS: number;
  /** Simulated seconds per wall second. */
  realTimeFactor: number;
  plans: number;
  /** Wall time inside engine.plan [s] (the model, on the inference worker). */
  modelS: number;
  /** Wall time rendering the run's camera frames, measured alone [s] (0 without rendering). */
  renderS: number;
  /** The rest: planner + watchdog node code, the bus, the vehicle model, metrics, the bag and the reports [s]. */
  restS: number;
  verdict: string;
}

/** Times every plan's wall time (the loop waits for it: virtual time stands still while the model runs). */
function timed(engine: PlanningEngine): { engine: PlanningEngine; ms: () => number; plans: () => number } {
  let ms = 0;
  let n = 0;
  return {
    engine: {
      contract: engine.contract,
      get provider() {
        return engine.provider;
      },
      close: () => engine.close(),
      async plan(input: PlanInput): Promise<PlanResult> {
        const t = performance.now();
        try {
          return await engine.plan(input);
        } finally {
          ms += performance.now() - t;
          n++;
        }
      },
    },
    ms: () => ms,
    plans: () => n,
  };
}

/** Renders the frames a run renders (4 cameras at 10 Hz) along the route, alone. */
function renderCost(scenarioFile: string, width: number, height: number): number {
  const l = loadScenario(scenarioFile);
  const scene = sceneOf(l.scenario, l.road);
  const frames = Math.round(l.scenario.duration_s * 10) + 1;
  const t = performance.now();
  for (let k = 0; k < frames; k++) {
    const st = warmupState(l.scenario, l.road, k / 10);
    for (const cam of SAMPLE_CAMERAS) renderCamera(scene, st, cam, width, height, k / 10);
  }
  return (performance.now() - t) / 1000;
}

export async function benchSim(o: {
  engine: PlanningEngine;
  outDir: string;
  render: boolean;
  scenarioFile?: string;
}): Promise<SimFigures> {
  const file = o.scenarioFile ?? SIM_SCENARIO;
  const t = timed(o.engine);
  const start = performance.now();
  const r = await runScenario({
    loaded: loadScenario(file),
    engine: t.engine,
    paramsFiles: [],
    outDir: path.join(o.outDir, o.render ? 'render' : 'flat'),
    seed: 0,
    latency: { kind: 'fixed', ms: 100 },
    version: 'bench',
    render: o.render,
  });
  const wallS = (performance.now() - start) / 1000;
  const modelS = t.ms() / 1000;
  const renderS = o.render ? renderCost(file, o.engine.contract.imageWidth, o.engine.contract.imageHeight) : 0;
  return {
    render: o.render,
    simulatedS: r.simulatedS,
    wallS: round(wallS),
    realTimeFactor: round(r.simulatedS / wallS),
    plans: t.plans(),
    modelS: round(modelS),
    renderS: round(renderS),
    restS: round(Math.max(0, wallS - modelS - renderS)),
    verdict: r.report.verdict,
  };
}
