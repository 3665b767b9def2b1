import os from 'node:os';

export interface MachineInfo {
  cpuModel: string;
  cores: number;
  memoryGiB: number;
  platform: string;
  node: string;
  onnxruntime: string;
  /** Execution providers asked for, and the one the engine got (filled in by the pipeline benchmark). */
  providersRequested: string[];
  provider: string;
  gpu: string;
  date: string;
}

export async function machineInfo(providers: string[]): Promise<MachineInfo> {
  const cpus = os.cpus();
  let ortVersion = 'unknown';
  try {
    const { createRequire } = await import('node:module');
    const require = createRequire(import.meta.url);
    ortVersion = (require('onnxruntime-node/package.json') as { version: string }).version;
  } catch {
    /* reported as unknown */
  }
  return {
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    cores: cpus.length,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    platform: `${os.platform()} ${os.arch()} ${os.release()}`,
    node: process.version,
    onnxruntime: ortVersion,
    providersRequested: providers,
    provider: '',
    gpu: providers.some((p) => p.startsWith('cuda') || p.startsWith('tensorrt')) ? 'requested' : 'none',
    date: new Date().toISOString(),
  };
}
