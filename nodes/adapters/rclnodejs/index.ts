export { createRclNode, RclRosNode, type RclNodeOptions, type RclDependencies } from './rclNode.js';
export { loadRclnodejs, rosEnvironmentProblem, unwrapDefaultExport, type RclnodejsModule, type RclModuleLoader } from './loader.js';
export { toRclQos, RMW } from './rclQos.js';
export { withFreshTypedArrays } from './publish.js';
export { flattenParameters, toRclParameterValue, PARAMETER_TYPE } from './parameters.js';
export { RosTimerScheduler, type StartTimer } from './scheduler.js';
export { exitOnSignals, SHUTDOWN_DEADLINE_MS, type ProcessLike, type TimerHost } from './signals.js';
