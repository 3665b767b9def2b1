/**
 * rosbag2 `metadata.yaml` (rb2 rosbag2_storage yaml.hpp): the parts the reader uses, and the version-8 file the
 * writer emits (integer QoS, `type_description_hash`), readable by `ros2 bag` on Humble through Jazzy.
 */
import { parse, stringify } from 'yaml';
import { BagError } from './errors.js';

/** A value for an error message: JSON, with bigints (YAML integers) as plain numbers; never throws. */
function shown(v: unknown): string {
  if (typeof v === 'bigint') return v.toString();
  try {
    return JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x)) ?? String(v);
  } catch {
    return String(v);
  }
}

interface MetadataTopic {
  name: string;
  type: string;
  serializationFormat: string;
  /** As written: a YAML string (v ≤ 8) or, re-serialised, the v9 list. */
  offeredQosProfiles: string;
  typeDescriptionHash: string;
  messageCount: number;
}

interface MetadataFile {
  path: string;
  startingTimeNs: bigint;
  durationNs: bigint;
  messageCount: number;
}

export interface BagMetadata {
  version: number;
  storageIdentifier: string;
  durationNs: bigint;
  startingTimeNs: bigint;
  messageCount: number;
  topics: MetadataTopic[];
  compressionFormat: string;
  compressionMode: string;
  relativeFilePaths: string[];
  /** Per-file entries (version ≥ 5), else empty. */
  files: MetadataFile[];
  rosDistro: string;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function num(o: Obj, key: string, where: string): number {
  const v = o[key];
  if (typeof v !== 'number' || !Number.isFinite(v))
    throw new BagError(`${where}.${key}: expected a number, got ${shown(v)}`);
  return v;
}
function big(o: Obj, key: string, inner: string, where: string): bigint {
  const v = o[key];
  if (!isObj(v)) throw new BagError(`${where}.${key}: expected a map with '${inner}', got ${shown(v)}`);
  const n = v[inner];
  if (typeof n === 'bigint') return n;
  if (typeof n === 'number' && Number.isInteger(n)) return BigInt(n);
  throw new BagError(`${where}.${key}.${inner}: expected an integer, got ${shown(n)}`);
}
const str = (v: unknown): string =>
  typeof v === 'string' ? v : v === undefined || v === null ? '' : stringify(v).trimEnd();

/** Parses metadata.yaml text; `file` names it in errors. */
export function parseBagMetadata(text: string, file: string): BagMetadata {
  let doc: unknown;
  try {
    doc = parse(text, { intAsBigInt: true });
  } catch (e) {
    throw new BagError(`${file}: not valid YAML: ${(e as Error).message.split('\n')[0]}`);
  }
  const root = isObj(doc) ? doc['rosbag2_bagfile_information'] : undefined;
  if (!isObj(root)) throw new BagError(`${file}: expected a top-level 'rosbag2_bagfile_information' map`);
  const w = `${file}: rosbag2_bagfile_information`;
  const toNum = (o: Obj, k: string, where: string): number => {
    const v = o[k];
    return num({ [k]: typeof v === 'bigint' ? Number(v) : v }, k, where);
  };
  const topicsRaw = root['topics_with_message_count'] ?? [];
  if (!Array.isArray(topicsRaw)) throw new BagError(`${w}.topics_with_message_count: expected a list`);
  const topics = topicsRaw.map((t: unknown, i): MetadataTopic => {
    const where = `${w}.topics_with_message_count[${i}]`;
    if (!isObj(t) || !isObj(t['topic_metadata'])) throw new BagError(`${where}: expected a map with 'topic_metadata'`);
    const m = t['topic_metadata'];
    return {
      name: str(m['name']),
      type: str(m['type']),
      serializationFormat: str(m['serialization_format']),
      offeredQosProfiles: str(m['offered_qos_profiles']),
      typeDescriptionHash: str(m['type_description_hash']),
      messageCount: toNum(t, 'message_count', where),
    };
  });
  const paths = root['relative_file_paths'] ?? [];
  if (!Array.isArray(paths) || !paths.every((p) => typeof p === 'string')) {
    throw new BagError(`${w}.relative_file_paths: expected a list of file names`);
  }
  const filesRaw = root['files'] ?? [];
  const files = (Array.isArray(filesRaw) ? filesRaw : []).map((f: unknown, i): MetadataFile => {
    const where = `${w}.files[${i}]`;
    if (!isObj(f)) throw new BagError(`${where}: expected a map`);
    return {
      path: str(f['path']),
      startingTimeNs: big(f, 'starting_time', 'nanoseconds_since_epoch', where),
      durationNs: big(f, 'duration', 'nanoseconds', where),
      messageCount: toNum(f, 'message_count', where),
    };
  });
  return {
    version: toNum(root, 'version', w),
    storageIdentifier: str(root['storage_identifier']),
    durationNs: big(root, 'duration', 'nanoseconds', w),
    startingTimeNs: big(root, 'starting_time', 'nanoseconds_since_epoch', w),
    messageCount: toNum(root, 'message_count', w),
    topics,
    compressionFormat: str(root['compression_format']),
    compressionMode: str(root['compression_mode']),
    relativeFilePaths: paths as string[],
    files,
    rosDistro: str(root['ros_distro']),
  };
}

/** metadata.yaml text, version 8, keys in rosbag2's order. Deterministic for the same input. */
export function formatBagMetadata(m: Omit<BagMetadata, 'version'>): string {
  const doc = {
    rosbag2_bagfile_information: {
      version: 8,
      storage_identifier: m.storageIdentifier,
      duration: { nanoseconds: m.durationNs },
      starting_time: { nanoseconds_since_epoch: m.startingTimeNs },
      message_count: m.messageCount,
      topics_with_message_count: m.topics.map((t) => ({
        topic_metadata: {
          name: t.name,
          type: t.type,
          serialization_format: t.serializationFormat,
          offered_qos_profiles: t.offeredQosProfiles,
          type_description_hash: t.typeDescriptionHash,
        },
        message_count: t.messageCount,
      })),
      compression_format: m.compressionFormat,
      compression_mode: m.compressionMode,
      relative_file_paths: m.relativeFilePaths,
      files: m.files.map((f) => ({
        path: f.path,
        starting_time: { nanoseconds_since_epoch: f.startingTimeNs },
        duration: { nanoseconds: f.durationNs },
        message_count: f.messageCount,
      })),
      custom_data: {},
      ros_distro: m.rosDistro,
    },
  };
  return stringify(doc, { lineWidth: 0, defaultStringType: 'QUOTE_DOUBLE', defaultKeyType: 'PLAIN' });
}
