import { readParamsFile } from './paramsFile.js';
import { paramsFromArgs, type RosArgs } from './rosArgs.js';
import type { ParameterOverrides, ParameterSource } from './overrides.js';

export const COMMAND_LINE_ORIGIN = 'command line (-p)';

/**
 * The parameter sources "--ros-args" gives a node, in rcl's order: each --params-file (the "/**" section, then
 * the node's own), then all -p overrides. The same loader serves rclnodejs and offline runs.
 */
export function parameterOverridesFromArgs(args: RosArgs, nodeName: string, namespace = '/'): ParameterOverrides {
  const sources: ParameterSource[] = args.paramsFiles.map((file) => readParamsFile(file, nodeName, namespace));
  const cli = paramsFromArgs(args, nodeName);
  if (Object.keys(cli).length) sources.push({ origin: COMMAND_LINE_ORIGIN, values: cli });
  return { sources };
}
