/** Bundles made on the spot: the demo bundle (its tiny language included) and the tiny real-shape AR1 bundle. */
export { AR1_CAMERAS, makeDemoBundle } from './demoBundle.js';
export { makeTinyAr1Bundle } from './tinyAr1Bundle.js';
export { TINY } from './tinyTransformer.js';
export type { TinyAr1Options } from './tinyAr1Bundle.js';
export type { DemoBundleOptions } from './demoBundle.js';
