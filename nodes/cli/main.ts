import { Command, CommanderError } from 'commander';
import { UserError } from '../core/errors.js';
import { packageVersion, type RegisterCommand } from './command.js';

/** Subcommands, in the order `ar1 --help` lists them. */
const COMMANDS: Array<() => Promise<{ register: RegisterCommand }>> = [
  () => import('./nodeCommand.js'),
  () => import('./modelCommand.js'),
  () => import('./bagCommand.js'),
  () => import('./replayCommand.js'),
  () => import('./reportCommand.js'),
  () => import('./demoCommand.js'),
  () => import('./alpasimCommand.js'),
  () => import('./simCommand.js'),
];

export async function buildProgram(): Promise<Command> {
  const program = new Command('ar1')
    .description('Alpamayo-R1 on ROS 2: vehicle nodes, model bundles, rosbag replay evaluation')
    .version(packageVersion(), '-V, --version', 'print the ar1-ros version')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  for (const load of COMMANDS) (await load()).register(program);
  return program;
}

/** Runs the CLI; returns the exit code. User mistakes print one line, never a stack trace. */
export async function main(argv: readonly string[]): Promise<number> {
  const program = await buildProgram();
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    // Help and --version exit 0; every usage error (unknown option, missing argument, bad choice) exits 2.
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
    if (e instanceof UserError) {
      process.stderr.write(`ar1: ${e.message}\n`);
      return e.exitCode;
    }
    throw e;
  }
}
