import { expect } from 'chai';
import { InProcessBus } from '../../nodes/adapters/inprocess/bus.js';
import { InProcessNode } from '../../nodes/adapters/inprocess/inProcessNode.js';
import { SteppingScheduler } from '../../nodes/adapters/inprocess/virtualScheduler.js';
import { FrameRing } from '../../nodes/adapters/onnxruntime/frameRing.js';
import type { FrameStoreOptions, PlanInput, PlanResult } from '../../nodes/core/planningEngine.js';
import { MemoryLogger } from '../../nodes/core/logger.js';
import { NO_OVERRIDES } from '../../nodes/core/params/index.js';
import { startPlanner } from '../../nodes/planner/plannerNode.js';
import { loadPlannerParams } from '../../nodes/planner/params.js';
import { balanced, FakeEngine, image, odometry } from './harness.js';

/** The fake engine with the onnxruntime engine's frame store; `slots` overrides the planner's ring size. */
class StoreEngine extends FakeEngine {
  ring: FrameRing | undefined;
  requested: FrameStoreOptions | undefined;
  /** Ring placements of every input's frames, checked when the plan is made (the slots must still hold them). */
  readonly placed: boolean[] = [];
  constructor(
    s: SteppingScheduler,
    latencyMs: number,
    readonly slots?: number,
  ) {
    super(s, latencyMs);
  }
  createFrameStore(o: FrameStoreOptions): FrameRing {
    this.requested = o;
    let n = 1;
    this.ring = new FrameRing(this.contract.cameras.length, this.slots ?? o.slotsPerCamera, () => n++);
    return this.ring;
  }
  override plan(input: PlanInput): Promise<PlanResult> {
    this.placed.push(input.frames.flat().every((f) => this.ring!.placementOf(f.data) !== undefined));
    return super.plan(input);
  }
}

function rig(latencyMs: number, slots?: number) {
  const s = new SteppingScheduler(100_000);
  const bus = new InProcessBus(s);
  const logger = new MemoryLogger();
  const params = loadPlannerParams(NO_OVERRIDES);
  const engine = new StoreEngine(s, latencyMs, slots);
  const planner = startPlanner(new InProcessNode(bus, { name: 'ar1_planner', logger }), params, engine);
  const sensors = new InProcessNode(bus, { name: 'sensors' });
  const qos = { reliability: 'best_effort', durability: 'volatile', depth: 5 } as const;
  const odom = sensors.createPublisher('nav_msgs/msg/Odometry', params.odometry.topic, qos);
  const cams = params.cameras.topics.map((t) => sensors.createPublisher('sensor_msgs/msg/Image', t, qos));
  for (let i = 100 * 50; i <= 106 * 50; i++) {
    const t = i / 50;
    s.schedule(
      () => {
        odom.publish(odometry(t) as never);
        if (i % 5 === 0)
          cams.forEach((p) => p.publish(image(t, { data: new Uint8Array(8 * 4 * 3).fill(i % 251) }) as never));
      },
      Math.round(t * 1000) - s.now(),
    );
  }
  const run = (toS: number) => s.advanceTo(Math.round(toS * 1000), () => new Promise((r) => setImmediate(r)));
  return { s, engine, planner, logger, params, run };
}

describe("planner with the engine's frame store (frames written once into shared slots)", () => {
  it("every frame is admitted on receipt; inputs carry the slots' views; slots come back; ring sized from buffer and bundle", async () => {
    const r = rig(300);
    const balancedAtEveryStep: boolean[] = [];
    for (let t = 100; t <= 107; t += 0.05) {
      await r.run(t);
      balancedAtEveryStep.push(balanced(r.planner.stats()));
    }
    expect(balancedAtEveryStep.every(Boolean)).to.equal(true);
    expect(r.engine.requested).to.deep.equal({ slotsPerCamera: r.params.cameras.buffer_size + 3 * 4 + 1 });
    const ring = r.engine.ring!;
    const st = r.planner.stats();
    expect(st.plans).to.be.greaterThan(10);
    expect(r.engine.placed.every(Boolean), 'every input frame views a ring slot still holding it').to.equal(true);
    expect(
      r.engine.inputs.flatMap((i) => i.frames.flat()).every((f) => f.data.buffer instanceof SharedArrayBuffer),
    ).to.equal(true);
    expect(ring.stats.admitted).to.equal(st.received);
    expect(ring.stats.refused).to.equal(0);
    // Slots are reused: at most buffer + 1 per camera are ever allocated while plans keep up.
    expect(ring.stats.allocations).to.be.at.most(4 * (r.params.cameras.buffer_size + 4 + 1));
    await r.planner.stop();
    // Stopped: the store is closed and every slot is free to go (no frame holds one).
    expect(ring.closed).to.equal(true);
    expect(ring.takeForgettable()).to.have.length(ring.stats.allocations);
  });

  it('an exhausted ring drops the arriving frame as frame_ring_full (counted, logged), never overwrites, keeps planning', async () => {
    // 6 slots per camera: about the frames in the selection window plus the arriving one; a 2 s plan keeps holding its
    // 4 frames long after they left the window, so arriving frames find no free slot.
    const r = rig(2000, 6);
    const balancedAtEveryStep: boolean[] = [];
    for (let t = 100; t <= 107; t += 0.05) {
      await r.run(t);
      balancedAtEveryStep.push(balanced(r.planner.stats()));
    }
    expect(balancedAtEveryStep.every(Boolean), 'received = planned + dropped + waiting at every step').to.equal(true);
    const st = r.planner.stats();
    expect(st.dropped['frame_ring_full']).to.be.greaterThan(0);
    expect(st.dropped['frame_ring_full']).to.equal(r.engine.ring!.stats.refused);
    expect(r.engine.placed.every(Boolean), 'no input frame was overwritten before its plan').to.equal(true);
    expect(st.plans).to.be.greaterThan(0);
    expect(
      r.logger.records.some(
        (x) =>
          x.level === 'warn' &&
          /frame dropped \(frame_ring_full\): camera_\w+: frame at \d+\.\d{3} s: every shared-memory slot/.test(
            x.message,
          ),
      ),
    ).to.equal(true);
    await r.planner.stop();
    expect(r.engine.ring!.takeForgettable()).to.have.length(r.engine.ring!.stats.allocations);
  });
});
