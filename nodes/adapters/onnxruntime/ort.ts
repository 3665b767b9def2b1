/**
 * The only module that imports onnxruntime-node: one cached dynamic import (loading the binding twice in a
 * process aborts it), sessions with execution-provider fallback, and the GraphRunner over them.
 * Imported only inside the inference worker.
 */
import type * as OrtModule from 'onnxruntime-node';
import { EngineError } from '../../core/engine.js';
import type { Logger } from '../../core/logger.js';
import type { GraphRole } from '../../engine/manifest.js';
import type { GraphRunner } from '../../engine/planPipeline.js';
import { TENSOR_TYPES } from '../../engine/tensors.js';
import type { Tensor, TensorType } from '../../engine/tensors.js';

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
export function providerEntry(ep: string): string | { name: string; deviceId: number } {
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

/**
 * Creates one session per graph, by path (external data files resolve beside the graph and are never copied into
 * JS memory), on the first execution provider that accepts all of them (onnxruntime-node does not fall back by
 * itself). Logs each refusal, the provider chosen and the load time.
 */
export async function createSessions(graphs: Partial<Record<GraphRole, string>>, providers: readonly string[], logger: Logger, intraOpThreads?: number, now: () => number = () => performance.now()): Promise<SessionSet> {
  const ort = await loadOrt();
  if (providers.length === 0) throw new EngineError('runtime', 'executionProviders: expected at least one provider, got []');
  const errors: string[] = [];
  for (const ep of providers) {
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
      logger.warn(`execution provider ${ep} unavailable: ${msg}; trying the next`);
      continue;
    }
    const sessions = made as Record<GraphRole, OrtModule.InferenceSession>;
    const loadMs = now() - loadStart;
    logger.info(`execution provider: ${ep} (tried ${providers.slice(0, providers.indexOf(ep) + 1).join(' → ')}); graphs loaded in ${loadMs.toFixed(0)} ms`);
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
          if (!(TENSOR_TYPES as readonly string[]).includes(t.type)) throw new EngineError('runtime', `${role}: output ${name} has dtype ${t.type}, which the engine does not read`);
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
