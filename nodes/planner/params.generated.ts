// Generated from config/ar1_planner.schema.json by scripts/schemaTypes.ts (npm run schema-types); do not edit.
// The schema is the source: edit it, then regenerate (a test fails while this file differs).
/**
 * Camera/odometry ingestion, AR1 frame selection and ego history, the planning loop and the command stream of ar1_planner (nodes/planner/README.md).
 */
export interface PlannerParams {
  /**
   * Model bundle directory (manifest + ONNX graphs) the node entry loads; empty = the entry must be given one [path]
   */
  bundle_dir: string;
  /**
   * sha256 of the bundle's manifest.yaml bytes (ar1 model verify prints it): a bundle whose manifest differs is refused before it loads; empty = not pinned (development only) [-]
   */
  manifest_sha256: string;
  /**
   * onnxruntime execution providers, tried in order (no automatic fallback in onnxruntime-node: the engine retries the next) [-]
   *
   * @minItems 1
   */
  execution_providers: ('tensorrt' | 'cuda' | 'cpu')[];
  /**
   * Seed for token sampling and flow-matching noise; same seed + same input gives the same plan [-]
   */
  seed: number;
  /**
   * Trajectory samples per plan; the first is the one driven [-]
   */
  samples: number;
  /**
   * Upper bound on plan starts per second; the loop plans as often as the engine allows below it [Hz]
   */
  max_plan_rate_hz: number;
  /**
   * Rate of /ar1/command, time-indexed into the latest plan (the watchdog's heartbeat) [Hz]
   */
  control_rate_hz: number;
  /**
   * Rig frame id at t0 used in the headers of /ar1/trajectory, /ar1/path and /ar1/command (x forward, y left, rear axle) [-]
   */
  frame_id: string;
  /**
   * A stamp this much older than the newest of its stream means time went backwards (bag loop, sim reset): buffers and history are cleared; a smaller step back is dropped as out_of_order [s]
   */
  time_reset_threshold_s: number;
  /**
   * A plan not finished within this much node time after it started is abandoned: counted (errors, frames dropped as plan_timeout), reported on /ar1/timing, and the loop moves on; an engine with restartWorker() gets a fresh worker [s]
   */
  plan_timeout_s: number;
  /**
   * Camera inputs, in AR1 order (must equal the bundle's camera order) [-]
   */
  cameras: {
    /**
     * Camera names in the order the model takes them [-]
     *
     * @minItems 1
     */
    names: string[];
    /**
     * Base image topic per camera, parallel to names; a compressed camera subscribes <topic>/compressed (image_transport convention) [-]
     *
     * @minItems 1
     */
    topics: string[];
    /**
     * Per camera, parallel to names: raw = sensor_msgs/Image (rgb8, bgr8, rgba8, bgra8, mono8), compressed = sensor_msgs/CompressedImage (jpeg, png) [-]
     *
     * @minItems 1
     */
    transports: ('raw' | 'compressed')[];
    /**
     * Frames kept per camera; must hold the 0.3 s selection window at the camera rate plus the time a plan waits [frames]
     */
    buffer_size: number;
    /**
     * A selected frame older than its target time by more than this (plus stamp_jitter_s for the targets before t0) means no plan this cycle (frame_too_old); one frame period lets the previous frame stand in for a lost one [s]
     */
    frame_tolerance_s: number;
    /**
     * Camera stamp jitter: a frame stamped up to this much after a target still counts as at the target, and frame_tolerance_s is widened by it for the targets before t0 [s]
     */
    stamp_jitter_s: number;
    /**
     * Newest stamp of the leading camera minus t0 (the slowest camera) beyond this means no plan (camera_stale) [s]
     */
    max_skew_s: number;
  };
  /**
   * Ego odometry input (pose in a fixed frame, child frame = rig) [-]
   */
  odometry: {
    /**
     * nav_msgs/Odometry topic [-]
     */
    topic: string;
    /**
     * Odometry kept by stamp span: must cover the 1.5 s history plus the time a plan waits; the buffer is sized by time, not by count [s]
     */
    buffer_s: number;
    /**
     * Memory cap on the odometry samples kept (4 s at 5 kHz by default); a warning says when it cuts into buffer_s [samples]
     */
    buffer_size: number;
    /**
     * Longest gap between consecutive odometry stamps inside the history window; longer means no plan (odometry_gap) [s]
     */
    max_gap_s: number;
    /**
     * Odometry jump (teleport): consecutive positions further apart than speed x stamp difference + this (speed = the larger of both samples' |twist.linear| and the previous pair's implied speed) clear the history; no plan until 1.5 s of history after the jump (odometry_jump) [m]
     */
    max_jump_m: number;
  };
  /**
   * Reasoning-action consistency: each plan's reasoning text is held against its own trajectory and the verdict is published on /ar1/reasoning (docs/consistency.md) [-]
   */
  consistency: {
    /**
     * Judge every plan; false publishes every plan as not assessable with the detail 'disabled' [-]
     */
    enabled: boolean;
    /**
     * Only the first horizon_s of the trajectory is labelled [s]
     */
    horizon_s: number;
    /**
     * Longitudinal meta-actions are labelled per window of this length, by the mean acceleration over it [s]
     */
    window_s: number;
    /**
     * Mean acceleration over a window at or above this: accelerate [m/s^2]
     */
    accelerate_min_mps2: number;
    /**
     * Mean deceleration (magnitude) over a window at or above this: decelerate [m/s^2]
     */
    decelerate_min_mps2: number;
    /**
     * |mean acceleration| over a moving window at or below this: keep_speed; between it and the two above a window has no longitudinal label [m/s^2]
     */
    keep_speed_max_mps2: number;
    /**
     * A window ending at or below this speed: stop (a window never above it is stationary: stop only) [m/s]
     */
    stop_speed_mps: number;
    /**
     * A window moving above stop_speed_mps but never above this: creep [m/s]
     */
    creep_max_speed_mps: number;
    /**
     * A trajectory travelling less than this within the horizon has no lateral meta-action (a turn cannot show) [m]
     */
    lateral_min_distance_m: number;
    /**
     * Heading within +-this over the horizon and offset within straight_max_offset_m: straight [rad]
     */
    straight_max_heading_rad: number;
    /**
     * Lateral offset at the horizon within +-this and heading within straight_max_heading_rad: straight [m]
     */
    straight_max_offset_m: number;
    /**
     * Heading change at the horizon at or beyond +-this: turn_left / turn_right (a bend of the road counts: the rules are geometric) [rad]
     */
    turn_min_heading_rad: number;
    /**
     * Lateral offset at the horizon at or beyond +-this, with the heading come back: lane_change_left / lane_change_right [m]
     */
    lane_change_min_offset_m: number;
    /**
     * Lane change: |heading at the horizon| at most this fraction of the peak heading towards the offset side (a bend keeps its heading) [-]
     */
    lane_change_max_end_heading_ratio: number;
    /**
     * Words that may stand between a negation, other-agent or deferral cue and the action phrase it governs [words]
     */
    negation_scope_words: number;
    /**
     * The phrases of the model's reasoning language, matched as whole words in lower case; a model that speaks differently gets its own lists [-]
     */
    vocabulary: {
      /**
       * Phrases that claim accelerate [-]
       */
      accelerate: string[];
      /**
       * Phrases that claim keep_speed [-]
       */
      keep_speed: string[];
      /**
       * Phrases that claim decelerate [-]
       */
      decelerate: string[];
      /**
       * Phrases that claim stop [-]
       */
      stop: string[];
      /**
       * Phrases that claim creep [-]
       */
      creep: string[];
      /**
       * Phrases that claim straight [-]
       */
      straight: string[];
      /**
       * Phrases that claim turn_left [-]
       */
      turn_left: string[];
      /**
       * Phrases that claim turn_right [-]
       */
      turn_right: string[];
      /**
       * Phrases that claim lane_change_left [-]
       */
      lane_change_left: string[];
      /**
       * Phrases that claim lane_change_right [-]
       */
      lane_change_right: string[];
      /**
       * Phrases that claim lane_change (either side) [-]
       */
      lane_change: string[];
      /**
       * Phrases that claim keep_lane (checked as: no lane change) [-]
       */
      keep_lane: string[];
      /**
       * Cues that negate the next action phrase ("do not accelerate") [-]
       */
      negation: string[];
      /**
       * Words that end a clause like punctuation: a cue does not reach past them [-]
       */
      clause_breaks: string[];
      /**
       * Cues that make the next action phrase another road user's ("the car ahead is slowing down") [-]
       */
      other_agent: string[];
      /**
       * Cues that make the next action phrase a later intention, not this plan ("before turning left") [-]
       */
      deferral: string[];
      /**
       * Phrases naming scene objects, never actions ("stop sign") [-]
       */
      ignore: string[];
    };
  };
  /**
   * Output topic names (remap in launch) [-]
   */
  topics: {
    /**
     * Out: ar1_msgs/Trajectory, 64 points, stamped t0 [-]
     */
    trajectory: string;
    /**
     * Out: nav_msgs/Path for RViz/Foxglove, origin + 64 poses in the rig frame at t0 [-]
     */
    path: string;
    /**
     * Out: ar1_msgs/Reasoning [-]
     */
    reasoning: string;
    /**
     * Out: std_msgs/String, the reasoning text only [-]
     */
    reasoning_text: string;
    /**
     * Out: ar1_msgs/PlannerTiming per plan or failed plan [-]
     */
    timing: string;
    /**
     * Out: ar1_msgs/UnicycleCommand at control_rate_hz [-]
     */
    command: string;
  };
}
