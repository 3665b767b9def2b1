/** The rosbag2 MCAP adapter: the only code that touches @mcap/* and CDR. */
export { openBag } from './bagReader.js';
export type { BagInfo, BagFileInfo, BagMessage, BagReader, MessagesOptions, OpenBagOptions, TopicInfo } from './bagReader.js';
export { createBagWriter } from './bagWriter.js';
export type { BagWriter, BagWriterOptions, WrittenBag } from './bagWriter.js';
export { BagError } from './errors.js';
export { locateBag } from './bagPaths.js';
export { parseBagMetadata, formatBagMetadata } from './metadataYaml.js';
export type { BagMetadata } from './metadataYaml.js';
export { ros2msgSchemaText } from './schemaText.js';
export { bundledDefinition, bundledTypeNames } from './definitions.js';
export { qosProfilesYaml } from './qosYaml.js';
