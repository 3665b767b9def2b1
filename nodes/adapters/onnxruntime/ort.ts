/**
 * The only module that imports onnxruntime-node: one cached dynamic import (loading the binding twice in a
 * process aborts it), sessions with execution-provider fallback, and the GraphRunner over them.
 * Imported only inside the inference worker.
 */
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import type * as OrtModule from 'onnxruntime-node';
import { EngineError } from '../../core/planningEngine.js';
import type { Logger } from '../../core/logger.js';
import type { GraphRole } from '../../bundle/manifest.js';
import type { GraphRunner } from '../../ar1/planPipeline.js';
import { GraphBuilder } from '../../syntheticBundles/graphBuilder.js';
import { TENSOR_TYPES } from '../../ar1/tensors.js';
import type { Tensor, TensorType } from '../../ar1/tensors.js';

type Ort = typeof OrtModule;
let ortPromise: Promise<Ort> | undefined;
export function loadOrt(): Promise<Ort> {
  ortPromise ??= import('onnxruntime-node').then((m) => {
    const d = (m as unknown as { default?: Ort }).default;
    return d?.InferenceSession ? d : (m as unknown as Ort);
  });
  return ortPromise;
}

/** "cuda:1" → { name: 'cuda', deviceId: 1 }; "cpu" → "cpu". */
function providerEntry(ep: string): string | { name: string; deviceId: number } {
  const m = /^(\w+):(\d+)$/.exec(ep);
  return m ? { name: m[1]!, deviceId: Number(m[2]) } : ep;
}

export interface SessionSet {
  provider: string;
  /** Wall time to create every session on the chosen provider [ms]. */
  loadMs: number;
  runner: GraphRunner;
  /** Milliseconds spent inside session.run since the last reset. */
  sessionRunMs: { value: number };
  release(): Promise<void>;
}

let probeModel: string | undefined;
/** The probe's child process: onnxruntime at fatal log severity, one session for the given provider, the verdict as JSON. */
const PROBE_SCRIPT = `
const [ortUrl, ep, model] = process.argv.slice(1);
const m = await import(ortUrl);
const ort = m.default?.InferenceSession ? m.default : m;
ort.env.logLevel = 'fatal';
try {
  const s = await ort.InferenceSession.create(Buffer.from(model, 'base64'), { executionProviders: [JSON.parse(ep)] });
  await s.release();
  process.stdout.write(JSON.stringify({ ok: true }));
} catch (e) {
  process.stdout.write(JSON.stringify({ ok: false, reason: String(e?.message ?? e).split('\\n')[0] }));
}`;
const PROBE_TIMEOUT_MS = 60_000;

/**
 * Whether provider ep can create a session, tried on a one-node graph in a child process whose onnxruntime logs
 * only fatal messages. onnxruntime writes a provider's missing libraries to its process-wide log (a red
 * `[E:onnxruntime…]` line) whatever the session's logSeverityLevel, and that level is fixed once per process; so the
 * probe runs apart (about 0.1 s without a GPU), and this process keeps onnxruntime's default log for the real
 * sessions. Returns undefined when ep works, else the first line of onnxruntime's reason.
 */
export async function probeProvider(ep: string): Promise<string | undefined> {
  if (!probeModel) {
    const g = new GraphBuilder('provider_probe');
    g.op('Identity', ['x'], {}, 'y');
    probeModel = Buffer.from(
      g.encode([{ name: 'x', dtype: 'float32', shape: [1] }], [{ name: 'y', dtype: 'float32', shape: [1] }]),
    ).toString('base64');
  }
  const ortUrl = pathToFileURL(createRequire(import.meta.url).resolve('onnxruntime-node')).href;
  const args = ['--input-type=module', '-e', PROBE_SCRIPT, ortUrl, JSON.stringify(providerEntry(ep)), probeModel];
  return new Promise((resolve) => {
    execFile(process.execPath, args, { timeout: PROBE_TIMEOUT_MS, encoding: 'utf8' }, (err, stdout) => {
      try {
        const v = JSON.parse(stdout) as { ok: boolean; reason?: string };
        resolve(v.ok ? undefined : (v.reason ?? 'refused'));
      } catch {
        resolve(
          err?.killed
            ? `no answer from the probe within ${PROBE_TIMEOUT_MS / 1000} s`
            : `the probe ended without a verdict (${err?.message.split('\n')[0] ?? `output "${stdout.slice(0, 80)}"`})`,
        );
      }
    });
  });
}

/**
 * Creates one session per graph, by path (external data files resolve beside the graph and are never copied into
 * JS memory), on the first execution provider that accepts all of them (onnxruntime-node does not fall back by
 * itself). A provider other than cpu is probed quietly first (probeProvider); the providers skipped are reported in
 * one warning naming each and why, then the provider chosen and the load time.
 */
export async function createSessions(
  graphs: Partial<Record<GraphRole, string>>,
  providers: readonly string[],
  logger: Logger,
  intraOpThreads?: number,
  now: () => number = () => performance.now(),
): Promise<SessionSet> {
  const ort = await loadOrt();
  if (providers.length === 0)
    throw new EngineError('runtime', 'executionProviders: expected at least one provider, got []');
  const errors: string[] = [];
  for (const ep of providers) {
    const refused = ep === 'cpu' ? undefined : await probeProvider(ep);
    if (refused !== undefined) {
      errors.push(`${ep}: ${refused}`);
      continue;
    }
    const made: Partial<Record<GraphRole, OrtModule.InferenceSession>> = {};
    const loadStart = now();
    try {
      for (const role of Object.keys(graphs) as GraphRole[]) {
        made[role] = await ort.InferenceSession.create(graphs[role]!, {
          executionProviders: [providerEntry(ep) as OrtModule.InferenceSession.ExecutionProviderConfig],
          graphOptimizationLevel: 'all',
          ...(intraOpThreads ? { intraOpNumThreads: intraOpThreads } : {}),
          extra: { session: { 'intra_op.allow_spinning': '0' } },
        });
      }
    } catch (e) {
      for (const s of Object.values(made)) await s?.release();
      const msg = (e as Error).message.split('\n')[0];
      errors.push(`${ep}: ${msg}`);
      continue;
    }
    const sessions = made as Record<GraphRole, OrtModule.InferenceSession>;
    const loadMs = now() - loadStart;
    if (errors.length > 0) logger.warn(`execution provider fallback to ${ep}: ${errors.join('; ')}`);
    logger.info(
      `execution provider: ${ep} (tried ${providers.slice(0, providers.indexOf(ep) + 1).join(' → ')}); graphs loaded in ${loadMs.toFixed(0)} ms`,
    );
    const sessionRunMs = { value: 0 };
    const runner: GraphRunner = {
      async run(role, feeds) {
        const ortFeeds: Record<string, OrtModule.Tensor> = {};
        for (const [name, t] of Object.entries(feeds)) ortFeeds[name] = new ort.Tensor(t.type, t.data, [...t.dims]);
        const t0 = now();
        let out: OrtModule.InferenceSession.ReturnType;
        try {
          out = await sessions[role].run(ortFeeds);
        } catch (e) {
          throw new EngineError('runtime', `${role}: session.run failed: ${(e as Error).message.split('\n')[0]}`);
        } finally {
          sessionRunMs.value += now() - t0;
        }
        const res: Record<string, Tensor> = {};
        for (const [name, t] of Object.entries(out)) {
          if (!(TENSOR_TYPES as readonly string[]).includes(t.type))
            throw new EngineError(
              'runtime',
              `${role}: output ${name} has dtype ${t.type}, which the engine does not read`,
            );
          res[name] = { type: t.type as TensorType, data: t.data as Tensor['data'], dims: t.dims };
        }
        return res;
      },
    };
    return {
      provider: ep,
      loadMs,
      runner,
      sessionRunMs,
      async release() {
        for (const s of Object.values(sessions)) await s.release();
      },
    };
  }
  throw new EngineError('runtime', `no execution provider could load the bundle: ${errors.join('; ')}`);
}
