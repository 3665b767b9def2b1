/** The model bundle: manifest format, pinned digests, ONNX graph file reading and whole-bundle verification. */
export {
  BundleError,
  FORM_ROLES,
  GRAPH_ROLES,
  loadManifest,
  MANIFEST_FILE,
  MANIFEST_FORMAT,
  parseManifest,
  roleIo,
  pastKey,
  pastValue,
  presentKey,
  presentValue,
  deepstackName,
} from './manifest.js';
export type { BundleForm, GraphRole, GraphSpec, Manifest, PromptPart } from './manifest.js';
export { verifyBundle, readGraph, sha256File } from './verifyBundle.js';
export { readGraphFile } from './graphFile.js';
export type { GraphFileInfo, ExternalRef } from './graphFile.js';
export type { VerifiedBundle, VerifyStats } from './verifyBundle.js';
