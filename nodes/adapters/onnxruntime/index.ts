/** onnxruntime-node adapter: the AR1 engine in a worker thread. */
export { createOnnxEngine, OnnxEngine } from './onnxEngine.js';
export type { OnnxEngineOptions } from './onnxEngine.js';
