/** Public library API of ar1-ros. */
export * from './core/msgs.js';
export * from './core/msgFields.js';
export * from './core/time.js';
export * from './core/clock.js';
export * from './core/logger.js';
export * from './core/errors.js';
export * from './core/qos.js';
export type * from './core/transport.js';
export * from './core/planningEngine.js';
export * from './core/params/index.js';
export { InProcessBus } from './adapters/inprocess/bus.js';
export { InProcessNode } from './adapters/inprocess/inProcessNode.js';
export { SteppingScheduler, WorkTracker } from './adapters/inprocess/virtualScheduler.js';
export * from './ar1/index.js';
export * from './bundle/index.js';
export * from './syntheticBundles/index.js';
export { createOnnxEngine } from './adapters/onnxruntime/index.js';
export type { OnnxEngineOptions } from './adapters/onnxruntime/index.js';
export { startPlanner, type PlannerHandle, type PlannerStats, type PlannerOptions } from './planner/plannerNode.js';
export { loadPlannerParams, type PlannerParams } from './planner/params.js';
export * from './consistency/index.js';
export {
  ConsistencyCollector,
  consistencyHeadline,
  consistencyHtml,
  mergeConsistency,
  type ConsistencySummary,
} from './replay/consistencyReport.js';
export { openBag, createBagWriter, BagError } from './adapters/mcap/index.js';
export { startWatchdog, type WatchdogHandle } from './watchdog/watchdogNode.js';
export { loadWatchdogParams, type WatchdogParams } from './watchdog/params.js';
export { tickCore, initialCore, type TickResult, type Transition, type Refusal } from './watchdog/watchdogCore.js';
export { replayBag, loadReplayParams, type ReplayOptions, type ReplayResult } from './replay/runner.js';
export { parseLatency, withModelledLatency, type LatencyModel } from './replay/latencyModel.js';
export { mergeReports, shardOf, parseShard } from './replay/merge.js';
export type { ReportJson } from './replay/report.js';
export { makeSampleBag } from './replay/sampleBag.js';
