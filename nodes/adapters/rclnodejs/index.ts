export { createRclNode, RclRosNode } from './rclNode.js';
export { rosEnvironmentProblem, unwrapDefaultExport } from './loader.js';
export { withFreshTypedArrays } from './publish.js';
export { flattenParameters, toRclParameterValue, PARAMETER_TYPE } from './parameters.js';
