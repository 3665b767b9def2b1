/**
 * Bundle verification: every declared file exists, has the declared size and sha256 (streamed in chunks: no file is
 * ever held whole in memory, so bundles of any size verify), every graph's real inputs/outputs (read from the ONNX
 * protobuf without its weights) match the manifest in name, dtype and shape, and every external-data reference of a
 * graph points into a declared file, within its size. Every file must be a regular file: a FIFO, socket or device is
 * refused before anything opens it (a read would wait for ever). A bundle that fails never runs. No onnxruntime here.
 */
import { createHash } from 'node:crypto';
import { createReadStream, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { BundleError, loadManifest, regularFileSize } from './manifest.js';
import type { GraphRole, Manifest } from './manifest.js';
import { GraphFileError, readGraphFile } from './graphFile.js';
import type { GraphFileInfo } from './graphFile.js';
import type { Dim, TensorSpec } from '../syntheticBundles/graphBuilder.js';

/** Dtypes onnxruntime-node 1.30 cannot pass in or out of a session ("Unsupported data type" at session creation). */
const UNCARRIED_IO_DTYPES: ReadonlySet<string> = new Set(['bfloat16']);

/** Size, modification time and verified sha256 of each file, as recorded by a verification. */
export type FileStamps = Record<string, { bytes: number; mtimeMs: number; sha256: string }>;

export interface VerifyStats {
  /** Files hashed now. */
  files: number;
  /** Files not hashed again: unchanged (size, mtime, declared sha256) since a verification passed as `trusted`. */
  unchanged: number;
  /** Bytes hashed (every declared file). */
  bytes: number;
  /** Wall time spent hashing [ms] (injected clock). */
  hashMs: number;
}

export interface VerifiedBundle {
  dir: string;
  manifest: Manifest;
  /** Absolute-or-relative path of each graph (load by path: external data resolves beside it). */
  graphPaths: Partial<Record<GraphRole, string>>;
  tokenizerJson: unknown;
  stats: VerifyStats;
  /** What this verification saw, to pass as `trusted` to a later one of the same bundle. */
  stamps: FileStamps;
}

export interface VerifyOptions {
  /** Read size per hash update, default 8 MiB. */
  chunkBytes?: number;
  /** Clock for the hash timing [ms], given by the caller (the CLI, the worker); without one, no timing (hashMs 0). */
  now?: () => number;
  /**
   * Stamps of an earlier verification in this process (a worker restart): a file whose size, mtime and declared
   * sha256 are unchanged is not hashed again, so a 22 GB bundle does not cost another half minute of hashing.
   */
  trusted?: FileStamps;
}

/** sha256 of a file, streamed in chunks of chunkBytes. */
export async function sha256File(path: string, chunkBytes = 8 << 20): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: chunkBytes })) h.update(chunk as Buffer);
  return h.digest('hex');
}

/** Runs every check; rejects with BundleError naming the file (and tensor), what was expected and what was found. */
export async function verifyBundle(dir: string, opts: VerifyOptions = {}): Promise<VerifiedBundle> {
  const now = opts.now ?? (() => 0);
  const manifest = loadManifest(dir);
  const stats: VerifyStats = { files: 0, unchanged: 0, bytes: 0, hashMs: 0 };
  const stamps: FileStamps = {};
  for (const [name, want] of Object.entries(manifest.files)) {
    if (name.includes('..') || name.startsWith('/'))
      throw new BundleError(
        `manifest.yaml: files.${name}: expected a file name inside the bundle, got a path outside it`,
      );
    const path = join(dir, name);
    if (regularFileSize(path) === undefined)
      throw new BundleError(`${path}: missing (declared in manifest.yaml files)`);
    let size: number, mtimeMs: number;
    try {
      ({ size, mtimeMs } = statSync(path));
    } catch {
      throw new BundleError(`${path}: missing (declared in manifest.yaml files)`);
    }
    if (size !== want.bytes)
      throw new BundleError(
        `${path}: expected ${want.bytes} bytes, got ${size} (${size < want.bytes ? 'truncated' : 'modified'})`,
      );
    const prior = opts.trusted?.[name];
    if (prior && prior.bytes === size && prior.mtimeMs === mtimeMs && prior.sha256 === want.sha256) {
      stats.unchanged++;
      stamps[name] = prior;
      continue;
    }
    const t = now();
    let sha: string;
    try {
      sha = await sha256File(path, opts.chunkBytes);
    } catch (e) {
      throw new BundleError(`${path}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
    stats.hashMs += now() - t;
    stats.bytes += size;
    stats.files++;
    if (sha !== want.sha256)
      throw new BundleError(`${path}: sha256 mismatch: expected ${want.sha256}, got ${sha} (file modified)`);
    stamps[name] = { bytes: size, mtimeMs, sha256: sha };
  }
  const graphPaths: Partial<Record<GraphRole, string>> = {};
  for (const [role, spec] of Object.entries(manifest.graphs) as [
    GraphRole,
    NonNullable<Manifest['graphs'][GraphRole]>,
  ][]) {
    const path = join(dir, spec.file);
    if (regularFileSize(path) === undefined)
      throw new BundleError(`${path}: missing (graphs.${role}.file in manifest.yaml)`);
    const info = readGraph(path);
    checkIo(path, info, spec.inputs, spec.outputs);
    checkExternal(path, info, manifest);
    graphPaths[role] = path;
  }
  const tokPath = join(dir, manifest.tokenizer.file);
  if (regularFileSize(tokPath) === undefined)
    throw new BundleError(`${tokPath}: missing (tokenizer.file in manifest.yaml)`);
  let tokenizerJson: unknown;
  try {
    tokenizerJson = JSON.parse(readFileSync(tokPath, 'utf8'));
  } catch (e) {
    throw new BundleError(`${tokPath}: invalid JSON: ${(e as Error).message}`);
  }
  checkSpecialTokens(tokPath, tokenizerJson, [
    manifest.tokenizer.cotStart,
    manifest.tokenizer.cotEnd,
    manifest.tokenizer.trajFutureStart,
  ]);
  return { dir, manifest, graphPaths, tokenizerJson, stats, stamps };
}

/** The graph's real I/O (initialisers listed as inputs are skipped) and external-data references. */
export function readGraph(path: string): GraphFileInfo {
  try {
    return readGraphFile(path);
  } catch (e) {
    if (e instanceof GraphFileError) throw new BundleError(`${path}: not a valid ONNX model (${e.message})`);
    throw new BundleError(`${path}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}

/** Real graph I/O vs the manifest, in both directions; dtypes onnxruntime-node cannot carry are refused. */
function checkIo(
  path: string,
  real: Pick<GraphFileInfo, 'inputs' | 'outputs'>,
  inputs: TensorSpec[],
  outputs: TensorSpec[],
): void {
  for (const [kind, want, got] of [
    ['input', inputs, real.inputs],
    ['output', outputs, real.outputs],
  ] as const) {
    const gotNames = got.map((t) => t.name);
    for (const w of want) {
      const g = got.find((t) => t.name === w.name);
      if (!g)
        throw new BundleError(
          `${path}: ${kind} ${w.name}: declared in manifest.yaml but the graph has ${kind}s [${gotNames.join(', ')}]`,
        );
      if (g.dtype !== w.dtype)
        throw new BundleError(`${path}: ${kind} ${w.name}: expected dtype ${w.dtype}, got ${g.dtype}`);
      if (!shapeMatches(w.shape, g.shape))
        throw new BundleError(
          `${path}: ${kind} ${w.name}: expected shape ${fmtShape(w.shape)}, got ${fmtShape(g.shape)}`,
        );
    }
    for (const g of got) {
      if (!want.some((w) => w.name === g.name))
        throw new BundleError(`${path}: ${kind} ${g.name}: present in the graph but not declared in manifest.yaml`);
      if (UNCARRIED_IO_DTYPES.has(g.dtype)) {
        throw new BundleError(
          `${path}: ${kind} ${g.name}: dtype ${g.dtype} cannot be passed in or out of onnxruntime-node sessions; export this tensor as float16 (weights inside the graph may stay ${g.dtype})`,
        );
      }
    }
  }
}

/** Every external-data reference names a file declared in the manifest, and its byte range lies inside that file. */
function checkExternal(path: string, info: GraphFileInfo, m: Manifest): void {
  for (const ref of info.external) {
    const declared = m.files[ref.location];
    if (ref.location === '' || ref.location.includes('..') || ref.location.startsWith('/')) {
      throw new BundleError(
        `${path}: initializer ${ref.tensor}: external data location ${JSON.stringify(ref.location)}: expected a file name inside the bundle`,
      );
    }
    if (!declared)
      throw new BundleError(
        `${path}: initializer ${ref.tensor}: external data file ${ref.location} is not declared in manifest.yaml files (so it is neither hashed nor trusted)`,
      );
    const end = ref.offset + (ref.length ?? 0);
    if (!Number.isSafeInteger(ref.offset) || ref.offset < 0 || end > declared.bytes) {
      throw new BundleError(
        `${path}: initializer ${ref.tensor}: external data ${ref.location} bytes [${ref.offset}, ${end}) lie outside the file (${declared.bytes} bytes): truncated or mismatching data file`,
      );
    }
  }
}

function shapeMatches(want: Dim[], got: Dim[]): boolean {
  return (
    want.length === got.length &&
    want.every((d, i) => (typeof d === 'number' ? got[i] === d : typeof got[i] === 'string'))
  );
}

export function fmtShape(s: readonly Dim[]): string {
  return `[${s.join(', ')}]`;
}

function checkSpecialTokens(path: string, json: unknown, tokens: string[]): void {
  const added = (json as { added_tokens?: { content?: string }[] } | null)?.added_tokens;
  const vocab = (json as { model?: { vocab?: Record<string, number> } } | null)?.model?.vocab;
  for (const t of tokens) {
    const found =
      (Array.isArray(added) && added.some((a) => a?.content === t)) ||
      (vocab !== undefined && typeof vocab === 'object' && t in vocab);
    if (!found)
      throw new BundleError(
        `${path}: special token ${t}: declared in manifest.yaml tokenizer but missing from the tokenizer`,
      );
  }
}
