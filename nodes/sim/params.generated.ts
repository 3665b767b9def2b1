// Generated from config/ar1_sim.schema.json by scripts/schemaTypes.ts (npm run schema-types); do not edit.
// The schema is the source: edit it, then regenerate (a test fails while this file differs).
/**
 * The closed-loop simulator as a ROS 2 node (ar1 node sim): it publishes /clock, odometry, the four cameras and the ground truth, and drives its vehicle model with the watchdog's command.
 */
export interface SimNodeParams {
  /**
   * scenario YAML file (config/scenarios/*.yaml; the planner faults need ar1 sim) [-]
   */
  scenario: string;
  /**
   * simulated seconds per second of steady (wall) time; keep 1: the watchdog judges the planner's command rate on its steady clock, and below ~0.6 it brakes [-]
   */
  real_time_factor: number;
  /**
   * simulated ROS time at the start, published on /clock [s]
   */
  start_time_s: number;
  /**
   * render the camera frames (false: flat grey frames) [-]
   */
  render: boolean;
  /**
   * camera frame width; the bundle's native width [px]
   */
  image_width: number;
  /**
   * camera frame height; the bundle's native height [px]
   */
  image_height: number;
  /**
   * shut down after the scenario's duration, exit 0 if it passed, 1 if not [-]
   */
  exit_at_end: boolean;
  cameras: {
    /**
     * cameras to render, in the planner's order [-]
     *
     * @minItems 1
     */
    names: string[];
    /**
     * one raw sensor_msgs/Image topic per camera [-]
     *
     * @minItems 1
     */
    topics: string[];
  };
  topics: {
    /**
     * nav_msgs/Odometry published at 50 Hz [-]
     */
    odometry: string;
    /**
     * ar1_msgs/UnicycleCommand the vehicle model obeys [-]
     */
    vehicle_command: string;
    /**
     * ar1_msgs/SafetyState, for the time per watchdog state [-]
     */
    safety_state: string;
    /**
     * rosgraph_msgs/Clock published every 10 ms of simulated time [-]
     */
    clock: string;
    /**
     * the true state (nav_msgs/Odometry, frame world) [-]
     */
    ground_truth: string;
  };
}
