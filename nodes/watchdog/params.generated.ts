// Generated from config/ar1_watchdog.schema.json by scripts/schemaTypes.ts (npm run schema-types); do not edit.
// The schema is the source: edit it, then regenerate (a test fails while this file differs).
/**
 * Deadlines, limits gate and fallback braking of ar1_watchdog, the only publisher of /vehicle/unicycle_command.
 */
export interface WatchdogParams {
  /**
   * Rate of the watchdog's own timer: deadline checks and /vehicle/unicycle_command [Hz]
   */
  control_rate_hz: number;
  /**
   * Rate of /diagnostics (also published on every state transition); capped at control_rate_hz [Hz]
   */
  diagnostics_rate_hz: number;
  /**
   * Plan age (now minus trajectory header stamp t0) beyond which the watchdog brakes [s]
   */
  max_plan_age_s: number;
  /**
   * Longest gap between /ar1/command messages (receipt time on the watchdog's steady clock, not ROS time) before fallback [s]
   */
  command_gap_s: number;
  /**
   * Odometry older than this (now minus header stamp) is stale [s]
   */
  odometry_stale_s: number;
  /**
   * Odometry position step between consecutive samples beyond what the reported speed explains over the stamp difference, plus this margin, is an odometry_jump fault (teleport) [m]
   */
  odometry_max_jump_m: number;
  /**
   * A camera frame older than this (now minus header stamp) is stale [s]
   */
  camera_stale_s: number;
  /**
   * A header stamp further than this ahead of now is a clock mismatch fault [s]
   */
  max_future_stamp_s: number;
  /**
   * The watchdog's own loop lagging: more than 1/control_rate_hz + this between two ticks (steady clock) is a loop_lag fault [s]
   */
  max_loop_lag_s: number;
  /**
   * Window of the frequency liveness check: fewer than min_rate_hz * rate_window_s receipts of an input in the last rate_window_s (steady clock) is a <input>_slow fault [s]
   */
  rate_window_s: number;
  /**
   * Lowest acceptable receipt rate per input, judged over rate_window_s once the input has been received for that long; 0 turns the check off [-]
   */
  min_rate_hz: {
    /**
     * /ar1/command (planner publishes 50 Hz) [Hz]
     */
    command: number;
    /**
     * /ar1/trajectory (at most 10 Hz) [Hz]
     */
    trajectory: number;
    /**
     * odometry (at least 10 Hz, 50 typical) [Hz]
     */
    odometry: number;
    /**
     * each monitored camera in cameras.topics (10 Hz for AR1) [Hz]
     */
    cameras: number;
  };
  /**
   * |twist speed| and the speed derived from odometry positions over pose_speed_window_s differing by more than this is a speed_mismatch fault; the limits then use the higher speed [m/s]
   */
  speed_mismatch_mps: number;
  /**
   * Stamp span of the odometry positions the pose-derived speed is measured over [s]
   */
  pose_speed_window_s: number;
  /**
   * |measured speed| at or below this counts as stopped [m/s]
   */
  standstill_speed_mps: number;
  /**
   * Engage by itself once, on the first tick with every monitor healthy (replay) [-]
   */
  auto_engage: boolean;
  /**
   * In STOPPED, reset by itself when every monitor is healthy (off: only an operator reset) [-]
   */
  auto_recover: boolean;
  /**
   * Number of points a valid /ar1/trajectory has (AR1 contract) [-]
   */
  trajectory_points: number;
  /**
   * Point spacing a valid /ar1/trajectory has (AR1 contract, compared within 1e-6) [s]
   */
  trajectory_dt_s: number;
  /**
   * Topic names (remap in launch) [-]
   */
  topics: {
    /**
     * In: planner command, ar1_msgs/UnicycleCommand [-]
     */
    command: string;
    /**
     * In: latest plan, ar1_msgs/Trajectory [-]
     */
    trajectory: string;
    /**
     * In: per-plan timing, ar1_msgs/PlannerTiming [-]
     */
    timing: string;
    /**
     * In: per-plan reasoning with its consistency verdict, ar1_msgs/Reasoning [-]
     */
    reasoning: string;
    /**
     * In: ego odometry, nav_msgs/Odometry [-]
     */
    odometry: string;
    /**
     * In: operator reset, std_msgs/Empty [-]
     */
    reset: string;
    /**
     * In: engage request, std_msgs/Bool (false = disengage) [-]
     */
    engage: string;
    /**
     * Out: the command the vehicle obeys, ar1_msgs/UnicycleCommand [-]
     */
    vehicle_command: string;
    /**
     * Out: ar1_msgs/SafetyState [-]
     */
    safety_state: string;
    /**
     * Out: diagnostic_msgs/DiagnosticArray [-]
     */
    diagnostics: string;
  };
  /**
   * Optional camera topics monitored for staleness (header stamp only) [-]
   */
  cameras: {
    /**
     * Camera topics to monitor [-]
     *
     * @maxItems 32
     */
    topics: string[];
    /**
     * Message type per camera topic: image = sensor_msgs/Image, compressed = sensor_msgs/CompressedImage; same length as cameras.topics [-]
     *
     * @maxItems 32
     */
    types: ('image' | 'compressed')[];
  };
  /**
   * Repeated over-budget planning: N of the last M plans [-]
   */
  planning_budget: {
    /**
     * A plan whose total_ms or latency_ms exceeds this (or that reports an error) is over budget [ms]
     */
    budget_ms: number;
    /**
     * N: this many over-budget plans in the window is a fault [-]
     */
    max_over_budget: number;
    /**
     * M: number of latest plans considered; >= max_over_budget [-]
     */
    window: number;
  };
  /**
   * Reasoning-action consistency: consecutive plans whose reasoning contradicts their own trajectory (verdict from /ar1/reasoning) [-]
   */
  consistency: {
    /**
     * N: this many inconsistent plans in a row (a consistent plan ends the run; a not-assessable one neither ends nor extends it) is the reasoning_inconsistent condition [-]
     */
    max_consecutive_inconsistent: number;
    /**
     * What the condition does: warn = WARN in /diagnostics and a log line, the vehicle keeps driving; fallback = the fault reasoning_inconsistent (ERROR, fallback braking, latched) [-]
     */
    on_fault: 'warn' | 'fallback';
  };
  /**
   * Default braking profile after a fault [-]
   */
  fallback: {
    /**
     * Deceleration reached by the ramp [m/s^2]
     */
    accel_mps2: number;
    /**
     * Jerk of the ramp from the last commanded acceleration [m/s^3]
     */
    jerk_mps3: number;
    /**
     * Jerk while the ramp leaves a positive acceleration (dropping the throttle), then jerk_mps3 below zero [m/s^3]
     */
    release_jerk_mps3: number;
  };
  /**
   * Stronger braking profile for the faults listed in emergency.faults [-]
   */
  emergency: {
    /**
     * Deceleration reached by the emergency ramp [m/s^2]
     */
    accel_mps2: number;
    /**
     * Jerk of the emergency ramp [m/s^3]
     */
    jerk_mps3: number;
    /**
     * Jerk of the emergency ramp while leaving a positive acceleration [m/s^3]
     */
    release_jerk_mps3: number;
    /**
     * Faults that select the emergency profile (escalation only, never back) [-]
     */
    faults: (
      | 'clock_zero'
      | 'clock_backward'
      | 'loop_lag'
      | 'plan_missing'
      | 'plan_stale'
      | 'plan_invalid'
      | 'plan_slow'
      | 'command_missing'
      | 'command_gap'
      | 'command_invalid'
      | 'command_slow'
      | 'odometry_missing'
      | 'odometry_stale'
      | 'odometry_invalid'
      | 'odometry_jump'
      | 'odometry_slow'
      | 'speed_mismatch'
      | 'camera_missing'
      | 'camera_stale'
      | 'camera_slow'
      | 'planning_over_budget'
      | 'stamp_in_future'
      | 'reasoning_inconsistent'
    )[];
  };
  /**
   * Holding the vehicle at standstill [-]
   */
  standstill: {
    /**
     * Standstill brake in STOPPED and DISENGAGED [m/s^2]
     */
    hold_accel_mps2: number;
  };
  /**
   * Speed-indexed command limits (linear interpolation, end values held); v = max(|v_ego|, 1 m/s) for the lateral limits [-]
   */
  limits: {
    /**
     * Reference speeds, strictly increasing [m/s]
     *
     * @minItems 1
     * @maxItems 64
     */
    reference_speed_mps: number[];
    /**
     * Largest acceleration, one per reference speed (ISO 15622) [m/s^2]
     *
     * @minItems 1
     * @maxItems 64
     */
    accel_max_mps2: number[];
    /**
     * Strongest deceleration, one per reference speed (ISO 15622) [m/s^2]
     *
     * @minItems 1
     * @maxItems 64
     */
    accel_min_mps2: number[];
    /**
     * Largest |longitudinal jerk| between published commands, one per reference speed [m/s^3]
     *
     * @minItems 1
     * @maxItems 64
     */
    jerk_max_mps3: number[];
    /**
     * Largest |curvature|, one per reference speed [1/m]
     *
     * @minItems 1
     * @maxItems 64
     */
    curvature_max_pm: number[];
    /**
     * Largest |curvature|*v^2, one per reference speed (ISO 11270) [m/s^2]
     *
     * @minItems 1
     * @maxItems 64
     */
    lat_accel_mps2: number[];
    /**
     * Largest |delta curvature|*v^2/dt, one per reference speed (ISO 11270) [m/s^3]
     *
     * @minItems 1
     * @maxItems 64
     */
    lat_jerk_mps3: number[];
  };
}
