/** The rosbag2 MCAP adapter: the only code that touches @mcap/* and CDR. */
export { openBag } from './bagReader.js';
export type { BagInfo, BagMessage, BagReader, TopicInfo } from './bagReader.js';
export { createBagWriter } from './bagWriter.js';
export type { BagWriter, WrittenBag } from './bagWriter.js';
export { BagError } from './errors.js';
export { parseBagMetadata } from './metadataYaml.js';
export { ros2msgSchemaText } from './schemaText.js';
