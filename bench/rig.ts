/** Planner (and optionally watchdog) on the in-process transport over any RxJS scheduler, plus a sensor feeder. */
import type { SchedulerLike } from 'rxjs';
import { InProcessBus } from '../nodes/adapters/inprocess/bus.js';
import { InProcessNode } from '../nodes/adapters/inprocess/inProcessNode.js';
import type { PlanningEngine } from '../nodes/core/planningEngine.js';
import type { CompressedImage, Image, Odometry } from '../nodes/core/msgs.js';
import { QOS_SENSOR } from '../nodes/core/qos.js';
import { loadPlannerParams } from '../nodes/planner/params.js';
import { startPlanner, type PlannerHandle } from '../nodes/planner/plannerNode.js';
import type { PlannerParams } from '../nodes/planner/params.js';
import { compressedMsg, imageMsg, odometryMsg } from './fixtures.js';

export interface PlannerRig {
  bus: InProcessBus;
  params: PlannerParams;
  planner: PlannerHandle;
  /** Publishes one frame per camera, stamped stampS, using frames[(cycle + camera) % frames.length]. */
  cameras(stampS: number, cycle: number): void;
  odometry(stampS: number): void;
  /** /ar1/timing sync_ms values, in order. */
  syncMs: number[];
}

export interface RigOptions {
  scheduler: SchedulerLike;
  engine: PlanningEngine;
  encoding: 'rgb8' | 'jpeg';
  /** Frame bytes to cycle through (raw rgb8 of the engine's size, or JPEG). */
  frames: readonly Uint8Array[];
  perfNow?: () => number;
  track?: <T>(p: Promise<T>) => Promise<T>;
  bus?: InProcessBus;
}

export function plannerRig(o: RigOptions): PlannerRig {
  const bus = o.bus ?? new InProcessBus(o.scheduler);
  const compressed = o.encoding === 'jpeg';
  const params = loadPlannerParams({
    sources: [
      { origin: 'bench', values: { cameras: { transports: Array(4).fill(compressed ? 'compressed' : 'raw') } } },
    ],
  });
  const node = new InProcessNode(bus, { name: 'ar1_planner', scheduler: o.scheduler });
  const sensors = new InProcessNode(bus, { name: 'bench_sensors', scheduler: o.scheduler });
  const planner = startPlanner(node, params, o.engine, {
    ...(o.perfNow ? { perfNow: o.perfNow } : {}),
    ...(o.track ? { track: o.track } : {}),
  });
  const { imageHeight: h, imageWidth: w } = o.engine.contract;
  const camPubs = params.cameras.topics.map((t) =>
    compressed
      ? sensors.createPublisher('sensor_msgs/msg/CompressedImage', `${t}/compressed`, QOS_SENSOR)
      : sensors.createPublisher('sensor_msgs/msg/Image', t, QOS_SENSOR),
  );
  const odomPub = sensors.createPublisher('nav_msgs/msg/Odometry', params.odometry.topic, QOS_SENSOR);
  const syncMs: number[] = [];
  bus.messages(params.topics.timing, 'ar1_msgs/msg/PlannerTiming').subscribe((m) => {
    const t = m as { sync_ms: number; error: string };
    if (!t.error) syncMs.push(t.sync_ms);
  });
  return {
    bus,
    params,
    planner,
    syncMs,
    cameras(stampS, cycle) {
      camPubs.forEach((p, c) => {
        const data = o.frames[(cycle + c) % o.frames.length]!;
        const msg: Image | CompressedImage = compressed ? compressedMsg(stampS, data) : imageMsg(stampS, data, h, w);
        (p.publish as (m: Image | CompressedImage) => void)(msg);
      });
    },
    odometry(stampS) {
      (odomPub.publish as (m: Odometry) => void)(odometryMsg(stampS));
    },
  };
}
