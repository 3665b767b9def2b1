/** What every `ar1` subcommand module shares: its registration signature and the package version it reports. */
import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import type { RosNode } from '../core/transport.js';

/** One subcommand module: adds itself to the program. */
export type RegisterCommand = (program: Command) => void;

export function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

// `ar1 node` and the simulator node it can start share these.
export interface NodeCommandOptions {
  bundle?: string;
  logLevel?: string;
}

/** A RosNode the command can also declare parameters on and hook into shutdown (the rclnodejs one). */
export interface RunnableRosNode extends RosNode {
  declareParameters(values: Readonly<Record<string, unknown>>, schema?: Readonly<Record<string, unknown>>): string[];
  onShutdown(hook: () => Promise<void> | void): void;
  /** A check that says why a plain process exit would block now (native work in a worker thread), or undefined. */
  addExitCheck(check: () => string | undefined): void;
}

/** What runNode reaches outside itself; tests replace them. */
export interface NodeCommandDeps {
  env?: NodeJS.ProcessEnv;
  createNode?: (options: { name: string; namespace?: string; argv: string[] }) => Promise<RunnableRosNode>;
}
