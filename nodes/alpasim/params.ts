/** The driver's node parameters: the same files and loaders as the vehicle and replay, plus what the driver sets. */
import { readParamsFile, type ParameterSource } from '../core/params/index.js';
import { loadPlannerParams, type PlannerParams } from '../planner/params.js';
import { loadWatchdogParams, type WatchdogParams } from '../watchdog/params.js';
import { PLANNER_NODE, WATCHDOG_NODE } from './session.js';

const DRIVER_ORIGIN = 'ar1 alpasim-driver';

/**
 * Planner and watchdog parameters from ROS 2 parameter files. The driver sets: every camera on the compressed
 * transport (AlpaSim sends JPEG/PNG stills), the number of samples, and auto_engage (the watchdog engages on its
 * first healthy tick, as in replay).
 */
export function loadDriverParams(
  files: readonly string[],
  samples: number,
): { planner: PlannerParams; watchdog: WatchdogParams } {
  const plannerFiles: ParameterSource[] = files.map((f) => readParamsFile(f, PLANNER_NODE));
  const names = loadPlannerParams({ sources: plannerFiles }, PLANNER_NODE).cameras.names;
  const planner = loadPlannerParams(
    {
      sources: [
        ...plannerFiles,
        { origin: DRIVER_ORIGIN, values: { samples, cameras: { transports: names.map(() => 'compressed') } } },
      ],
    },
    PLANNER_NODE,
  );
  const watchdog = loadWatchdogParams(
    {
      sources: [
        ...files.map((f) => readParamsFile(f, WATCHDOG_NODE)),
        { origin: DRIVER_ORIGIN, values: { auto_engage: true } },
      ],
    },
    WATCHDOG_NODE,
  );
  return { planner, watchdog };
}
