/**
 * Bundle verification: every declared file exists, has the declared size and sha256, and every graph's real
 * inputs/outputs (read from the ONNX protobuf) match the manifest in name, dtype and shape. A bundle that fails
 * never runs. Pure file reading + onnx-proto decoding; no onnxruntime.
 */
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { BundleError, GRAPH_ROLES, loadManifest } from './manifest.js';
import type { GraphRole, Manifest } from './manifest.js';
import { dtypeName, onnx } from './onnxProto.js';
import type { onnx as O } from 'onnx-proto';
import type { Dim, TensorSpec } from './graphBuilder.js';

export interface VerifiedBundle {
  dir: string;
  manifest: Manifest;
  /** Verified bytes of each ONNX graph (hash-checked), by role. */
  graphBytes: Record<GraphRole, Uint8Array>;
  tokenizerJson: unknown;
}

/** Runs every check; throws BundleError with file, tensor, expected and actual on the first failure. */
export function verifyBundle(dir: string): VerifiedBundle {
  const manifest = loadManifest(dir);
  const contents = new Map<string, Uint8Array>();
  for (const [name, want] of Object.entries(manifest.files)) {
    if (name.includes('..') || name.startsWith('/')) throw new BundleError(`manifest.yaml: files.${name}: expected a file name inside the bundle, got a path outside it`);
    const path = join(dir, name);
    let size: number;
    try {
      size = statSync(path).size;
    } catch {
      throw new BundleError(`${path}: missing (declared in manifest.yaml files)`);
    }
    if (size !== want.bytes) throw new BundleError(`${path}: expected ${want.bytes} bytes, got ${size} (${size < want.bytes ? 'truncated' : 'modified'})`);
    const bytes = readFileSync(path);
    const sha = createHash('sha256').update(bytes).digest('hex');
    if (sha !== want.sha256) throw new BundleError(`${path}: sha256 mismatch: expected ${want.sha256}, got ${sha} (file modified)`);
    contents.set(name, bytes);
  }
  const graphBytes = {} as Record<GraphRole, Uint8Array>;
  for (const role of GRAPH_ROLES) {
    const spec = manifest.graphs[role];
    const bytes = contents.get(spec.file)!;
    checkGraphIo(join(dir, spec.file), bytes, spec.inputs, spec.outputs);
    graphBytes[role] = bytes;
  }
  let tokenizerJson: unknown;
  const tokPath = join(dir, manifest.tokenizer.file);
  try {
    tokenizerJson = JSON.parse(Buffer.from(contents.get(manifest.tokenizer.file)!).toString('utf8'));
  } catch (e) {
    throw new BundleError(`${tokPath}: invalid JSON: ${(e as Error).message}`);
  }
  checkSpecialTokens(tokPath, tokenizerJson, [manifest.tokenizer.cotStart, manifest.tokenizer.cotEnd, manifest.tokenizer.trajFutureStart]);
  return { dir, manifest, graphBytes, tokenizerJson };
}

/** The graph's real I/O, read from the protobuf (initialisers listed as inputs are skipped). */
export function readGraphIo(path: string, bytes: Uint8Array): { inputs: TensorSpec[]; outputs: TensorSpec[] } {
  let model: O.ModelProto;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (e) {
    throw new BundleError(`${path}: not a valid ONNX model (${(e as Error).message})`);
  }
  const graph = model.graph;
  if (!graph) throw new BundleError(`${path}: not a valid ONNX model (no graph)`);
  const inits = new Set((graph.initializer ?? []).map((t) => t.name));
  const conv = (v: O.IValueInfoProto): TensorSpec => {
    const tt = v.type?.tensorType;
    const shape: Dim[] = (tt?.shape?.dim ?? []).map((d) => (d.dimParam ? d.dimParam : d.dimValue != null ? Number(d.dimValue) : '?'));
    return { name: v.name ?? '', dtype: dtypeName(tt?.elemType ?? 0) as TensorSpec['dtype'], shape };
  };
  return { inputs: (graph.input ?? []).filter((v) => !inits.has(v.name)).map(conv), outputs: (graph.output ?? []).map(conv) };
}

export function checkGraphIo(path: string, bytes: Uint8Array, inputs: TensorSpec[], outputs: TensorSpec[]): void {
  const real = readGraphIo(path, bytes);
  for (const [kind, want, got] of [['input', inputs, real.inputs], ['output', outputs, real.outputs]] as const) {
    const gotNames = got.map((t) => t.name);
    for (const w of want) {
      const g = got.find((t) => t.name === w.name);
      if (!g) throw new BundleError(`${path}: ${kind} ${w.name}: declared in manifest.yaml but the graph has ${kind}s [${gotNames.join(', ')}]`);
      if (g.dtype !== w.dtype) throw new BundleError(`${path}: ${kind} ${w.name}: expected dtype ${w.dtype}, got ${g.dtype}`);
      if (!shapeMatches(w.shape, g.shape)) throw new BundleError(`${path}: ${kind} ${w.name}: expected shape ${fmtShape(w.shape)}, got ${fmtShape(g.shape)}`);
    }
    for (const g of got) {
      if (!want.some((w) => w.name === g.name)) throw new BundleError(`${path}: ${kind} ${g.name}: present in the graph but not declared in manifest.yaml`);
    }
  }
}

function shapeMatches(want: Dim[], got: Dim[]): boolean {
  return want.length === got.length && want.every((d, i) => (typeof d === 'number' ? got[i] === d : typeof got[i] === 'string'));
}

export function fmtShape(s: readonly Dim[]): string {
  return `[${s.join(', ')}]`;
}

function checkSpecialTokens(path: string, json: unknown, tokens: string[]): void {
  const added = (json as { added_tokens?: { content?: string }[] } | null)?.added_tokens;
  const vocab = (json as { model?: { vocab?: Record<string, number> } } | null)?.model?.vocab;
  for (const t of tokens) {
    const found = (Array.isArray(added) && added.some((a) => a?.content === t)) || (vocab !== undefined && typeof vocab === 'object' && t in vocab);
    if (!found) throw new BundleError(`${path}: special token ${t}: declared in manifest.yaml tokenizer but missing from the tokenizer`);
  }
}
