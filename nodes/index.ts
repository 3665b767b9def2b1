/** Public library API of ar1-ros. */
export * from './core/msgs.js';
export * from './core/msgFields.js';
export * from './core/time.js';
export * from './core/clock.js';
export * from './core/logger.js';
export * from './core/errors.js';
export * from './core/qos.js';
export type * from './core/transport.js';
export * from './core/engine.js';
export * from './core/params/index.js';
export { InProcessBus } from './adapters/inprocess/bus.js';
export { InProcessNode } from './adapters/inprocess/node.js';
export { SteppingScheduler, WorkTracker } from './adapters/inprocess/virtualScheduler.js';
export * from './engine/index.js';
export { createOnnxEngine } from './adapters/onnxruntime/index.js';
export type { OnnxEngineOptions } from './adapters/onnxruntime/index.js';
export { startPlanner, type PlannerHandle, type PlannerStats, type PlannerOptions } from './planner/node.js';
export { loadPlannerParams, type PlannerParams } from './planner/params.js';
