export * from './overrides.js';
export * from './paramsFile.js';
export * from './rosArgs.js';
export * from './loadParameters.js';
export * from './fromArgs.js';
export * from './renamedNode.js';
