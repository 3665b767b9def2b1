/** What every `ar1` subcommand module shares: its registration signature and the package version it reports. */
import type { Command } from 'commander';
import { readFileSync } from 'node:fs';

/** One subcommand module: adds itself to the program. */
export type RegisterCommand = (program: Command) => void;

export function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}
