export { createRclNode, RclRosNode, type RclNodeOptions, type RclDependencies } from './node.js';
export { loadRclnodejs, rosEnvironmentProblem, unwrapDefaultExport, type RclnodejsModule, type RclModuleLoader } from './loader.js';
export { toRclQos, RMW } from './qos.js';
export { withFreshTypedArrays } from './publish.js';
export { flattenParameters, toRclParameterValue, PARAMETER_TYPE } from './parameters.js';
export { RosTimerScheduler, type StartTimer } from './scheduler.js';
export { exitOnSignals, SHUTDOWN_DEADLINE_MS, type ProcessLike, type TimerHost } from './signals.js';
