/**
 * The only place that loads rclnodejs: one cached dynamic import, default export unwrapped (its ESM build has only
 * a default export). Importing rclnodejs without a built native addon makes it
 * try to build one, so callers check rosEnvironmentProblem() first and nothing else imports it.
 */
export type RclnodejsModule = typeof import('rclnodejs');
/** rclnodejs's Node class type, re-exported so no other module names the package. */
export type RclNode = import('rclnodejs').Node;
export type RclModuleLoader = () => Promise<RclnodejsModule>;

let cached: Promise<RclnodejsModule> | undefined;

export function unwrapDefaultExport<T>(mod: T | { default: T }): T {
  return typeof mod === 'object' && mod !== null && 'default' in mod && mod.default ? mod.default : (mod as T);
}

export const loadRclnodejs: RclModuleLoader = () =>
  (cached ??= import('rclnodejs').then((m) => unwrapDefaultExport<RclnodejsModule>(m as RclnodejsModule)));

/** Why rclnodejs cannot work in this environment, or undefined when ROS 2 looks sourced. */
export function rosEnvironmentProblem(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env['AMENT_PREFIX_PATH'] && env['ROS_DISTRO']) return undefined;
  return (
    'ROS 2 is not sourced (AMENT_PREFIX_PATH and ROS_DISTRO are not set). On a ROS 2 Jazzy machine: ' +
    '`source /opt/ros/jazzy/setup.bash` and the overlay that holds ar1_msgs, then once, in this checkout, ' +
    '`ros/scripts/prepare_rclnodejs.sh .` (see docs/vehicle.md). Offline replay needs no ROS 2.'
  );
}
