import { InProcessBus } from '../../nodes/adapters/inprocess/bus.js';
import { InProcessNode } from '../../nodes/adapters/inprocess/inProcessNode.js';
import { SteppingScheduler } from '../../nodes/adapters/inprocess/virtualScheduler.js';
import {
  EngineError,
  type EngineContract,
  type PlanInput,
  type PlanningEngine,
  type PlanResult,
} from '../../nodes/core/planningEngine.js';
import { MemoryLogger } from '../../nodes/core/logger.js';
import type { Image, Odometry } from '../../nodes/core/msgs.js';
import { NO_OVERRIDES } from '../../nodes/core/params/index.js';
import { secondsToStamp } from '../../nodes/core/time.js';
import { loadPlannerParams, type PlannerParams } from '../../nodes/planner/params.js';
import { startPlanner, type PlannerHandle } from '../../nodes/planner/plannerNode.js';

export const AR1_CAMERAS = [
  'camera_cross_left_120fov',
  'camera_front_wide_120fov',
  'camera_cross_right_120fov',
  'camera_front_tele_30fov',
];
export const W = 8;
export const H = 4;

export const CONTRACT: EngineContract = {
  bundleId: 'fake@1',
  cameras: AR1_CAMERAS,
  framesPerCamera: 4,
  frameSpacingS: 0.1,
  imageWidth: W,
  imageHeight: H,
  historySteps: 16,
  historyDtS: 0.1,
  trajectorySteps: 64,
  trajectoryDtS: 0.1,
};

/** Fake engine: resolves (or rejects) after `latencyMs` of virtual time; the plan accelerates at 0.5 m/s². */
export class FakeEngine implements PlanningEngine {
  readonly contract = CONTRACT;
  readonly provider = 'fake';
  readonly inputs: PlanInput[] = [];
  constructor(
    private readonly scheduler: SteppingScheduler,
    public latencyMs: number,
    public failWhen: (i: PlanInput, n: number) => boolean = () => false,
  ) {}
  plan(input: PlanInput): Promise<PlanResult> {
    const n = this.inputs.push(input);
    return new Promise((resolve, reject) => {
      this.scheduler.schedule(
        () => (this.failWhen(input, n) ? reject(new EngineError('runtime', `boom ${n}`)) : resolve(fakeResult(input))),
        this.latencyMs,
      );
    });
  }
  async close(): Promise<void> {}
}

export function fakeResult(input: PlanInput, v0 = 10): PlanResult {
  const n = 64;
  const dt = 0.1;
  const tr = {
    dt,
    t: new Float64Array(n),
    x: new Float64Array(n),
    y: new Float64Array(n),
    heading: new Float64Array(n),
    speed: new Float64Array(n),
    acceleration: new Float64Array(n).fill(0.5),
    curvature: new Float64Array(n).fill(0.01),
  };
  for (let k = 0; k < n; k++) {
    tr.t[k] = (k + 1) * dt;
    tr.speed[k] = v0 + 0.5 * (k + 1) * dt;
    tr.x[k] = v0 * tr.t[k]!;
  }
  return {
    t0S: input.t0S,
    v0,
    reasoning: { text: `plan at ${input.t0S.toFixed(1)}`, tokens: 5, generationMs: 7 },
    trajectory: tr,
    samples: [tr],
    timing: { preprocessMs: 1, visionMs: 2, reasoningMs: 3, actionMs: 4, totalMs: 10, sessionRunMs: 9 },
    provider: 'fake',
    bundleId: 'fake@1',
  };
}

export function image(stampS: number, over: Partial<Image> = {}): Image {
  return {
    header: { stamp: secondsToStamp(stampS), frame_id: 'cam' },
    height: H,
    width: W,
    encoding: 'rgb8',
    is_bigendian: 0,
    step: W * 3,
    data: new Uint8Array(W * H * 3),
    ...over,
  };
}

/** Straight drive along x at 10 m/s. */
export function odometry(stampS: number, speed = 10): Odometry {
  return {
    header: { stamp: secondsToStamp(stampS), frame_id: 'map' },
    child_frame_id: 'base_link',
    pose: {
      pose: { position: { x: speed * stampS, y: 0, z: 0 }, orientation: { x: 0, y: 0, z: 0, w: 1 } },
      covariance: [],
    },
    twist: { twist: { linear: { x: speed, y: 0, z: 0 }, angular: { x: 0, y: 0, z: 0 } }, covariance: [] },
  };
}

export interface Harness {
  s: SteppingScheduler;
  bus: InProcessBus;
  engine: FakeEngine;
  planner: PlannerHandle;
  logger: MemoryLogger;
  params: PlannerParams;
  // Tests read whatever fields the topic they look at carries.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  out: Record<string, Array<{ atS: number; msg: any }>>;
  /** Publishes msg on topic at virtual time atS (sensor side). */
  at(atS: number, topic: string, type: 'sensor_msgs/msg/Image' | 'nav_msgs/msg/Odometry', msg: unknown): void;
  /** Cameras (all four, 10 Hz unless skipped) and odometry (50 Hz) from t0S to t1S, stamped with their time. */
  feed(
    t0S: number,
    t1S: number,
    opts?: {
      skipCamera?: number;
      odomGap?: [number, number];
      offsetS?: number;
      frame?: (cam: number, t: number) => Image;
    },
  ): void;
  run(toS: number): Promise<void>;
}

export function harness(latencyMs = 300, paramValues: Record<string, unknown> = {}, startS = 100): Harness {
  const s = new SteppingScheduler(startS * 1000);
  const bus = new InProcessBus(s);
  const logger = new MemoryLogger();
  const params = loadPlannerParams(
    Object.keys(paramValues).length ? { sources: [{ origin: 'test', values: paramValues }] } : NO_OVERRIDES,
  );
  const node = new InProcessNode(bus, { name: 'ar1_planner', logger });
  const sensors = new InProcessNode(bus, { name: 'sensors' });
  const engine = new FakeEngine(s, latencyMs);
  const out: Harness['out'] = {};
  for (const [key, topic, type] of [
    ['trajectory', '/ar1/trajectory', 'ar1_msgs/msg/Trajectory'],
    ['path', '/ar1/path', 'nav_msgs/msg/Path'],
    ['reasoning', '/ar1/reasoning', 'ar1_msgs/msg/Reasoning'],
    ['reasoning_text', '/ar1/reasoning_text', 'std_msgs/msg/String'],
    ['timing', '/ar1/timing', 'ar1_msgs/msg/PlannerTiming'],
    ['command', '/ar1/command', 'ar1_msgs/msg/UnicycleCommand'],
  ] as const) {
    out[key] = [];
    bus.messages(topic, type).subscribe((msg) => out[key]!.push({ atS: s.now() / 1000, msg }));
  }
  const planner = startPlanner(node, params, engine);
  const pubs = new Map<string, ReturnType<InProcessNode['createPublisher']>>();
  const h: Harness = {
    s,
    bus,
    engine,
    planner,
    logger,
    params,
    out,
    at(atS, topic, type, msg) {
      let p = pubs.get(topic);
      if (!p) {
        p = sensors.createPublisher(type, topic, { reliability: 'best_effort', durability: 'volatile', depth: 5 });
        pubs.set(topic, p);
      }
      const pub = p;
      s.schedule(() => pub.publish(msg as never), Math.max(0, Math.round(atS * 1000) - s.now()));
    },
    feed(t0S, t1S, opts = {}) {
      const off = opts.offsetS ?? 0;
      for (let i = Math.round(t0S * 50); i <= Math.round(t1S * 50); i++) {
        const t = i / 50;
        const inGap = opts.odomGap && t > opts.odomGap[0] && t < opts.odomGap[1];
        if (!inGap) h.at(t + off, params.odometry.topic, 'nav_msgs/msg/Odometry', odometry(t));
        if (i % 5 !== 0) continue;
        AR1_CAMERAS.forEach((_, c) => {
          if (c === opts.skipCamera) return;
          h.at(t + off, params.cameras.topics[c]!, 'sensor_msgs/msg/Image', opts.frame ? opts.frame(c, t) : image(t));
        });
      }
    },
    run: (toS) => s.advanceTo(Math.round(toS * 1000), () => new Promise((r) => setImmediate(r))),
  };
  return h;
}

/** received = planned + dropped + waiting. */
export function balanced(st: {
  received: number;
  planned: number;
  waiting: number;
  dropped: Record<string, number>;
}): boolean {
  return st.received === st.planned + st.waiting + Object.values(st.dropped).reduce((a, b) => a + b, 0);
}
