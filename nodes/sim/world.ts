/**
 * The simulated world of a scenario: the rendered scene (road, posts, barrier), the warm-up driver, fault windows
 * and the messages the simulator publishes (odometry, camera frames, /clock, ground truth). Pure.
 */
import type { Image, Odometry } from '../core/msgs.js';
import { secondsToStamp } from '../core/time.js';
import { seededRandom } from '../replay/sample/drive.js';
import { renderCamera, type CameraSpec, type Scene } from '../replay/sample/scene.js';
import { BARRIER_OVERHANG_M } from './metrics.js';
import type { Road } from './road.js';
import type { FaultSpec, Scenario } from './scenario.js';
import type { VehicleState } from './vehicle.js';

/** [m] straight road drawn behind the start, so the side cameras see road at the start too. */
const LEAD_IN_M = 40;

/** The scene the cameras see: the scenario's road (plus a lead-in), roadside posts and the barrier. */
export function sceneOf(sc: Scenario, road: Road): Scene {
  const samples = [];
  for (let s = -LEAD_IN_M; s < 0; s += 1) samples.push({ x: s, y: 0, yaw: 0, s });
  for (let i = 0; i < road.points.length; i += 2) {
    const p = road.points[i]!;
    samples.push({ x: p.x, y: p.y, yaw: p.yaw, s: p.s });
  }
  const scene: Scene = { road: samples, weave: () => 0, posts: [], halfWidth: road.halfWidth };
  const rand = seededRandom(1);
  for (let s = -LEAD_IN_M; s <= road.length; s += 14) {
    const p = road.poseAt(s);
    const base = s < 0 ? { x: s, y: 0, yaw: 0 } : p;
    const off = (rand() < 0.5 ? -1 : 1) * (road.halfWidth + 2.4 + 3 * rand());
    scene.posts.push({ x: base.x - Math.sin(base.yaw) * off, y: base.y + Math.cos(base.yaw) * off });
  }
  const b = sc.obstacles[0];
  if (b) {
    const p = road.poseAt(b.at_m);
    scene.barrier = {
      x: p.x,
      y: p.y,
      yaw: p.yaw,
      halfWidth: road.halfWidth + BARRIER_OVERHANG_M,
      height: b.height_m,
      untilS: b.lifts_at_s ?? Infinity,
    };
  }
  return scene;
}

/** The car during the warm-up: on the route at its initial speed. */
export function warmupState(sc: Scenario, road: Road, tS: number): VehicleState {
  const p = road.poseAt(sc.ego.speed_mps * tS, sc.route.lane_offset_m);
  return { x: p.x, y: p.y, yaw: p.yaw, v: sc.ego.speed_mps, a: 0, kappa: p.kappa };
}

/** Whether a fault is in effect at tS (seconds from the start). */
export function faultActive(f: FaultSpec, tS: number): boolean {
  if (tS < f.at_s) return false;
  return !('duration_s' in f) || f.duration_s === undefined || tS < f.at_s + f.duration_s;
}

/** How far simulated ROS time is behind true time at tS [s] (clock_backward faults that happened). */
export function clockOffsetS(faults: readonly FaultSpec[], tS: number): number {
  let off = 0;
  for (const f of faults) if (f.kind === 'clock_backward' && tS >= f.at_s) off -= f.jump_s;
  return off;
}

/** Odometry of base_link in odom from the simulated state (twist in the child frame). */
export function odometryOf(st: VehicleState, stampS: number, frame = 'odom'): Odometry {
  const poseCov = new Array<number>(36).fill(0);
  const twistCov = new Array<number>(36).fill(0);
  for (let i = 0; i < 6; i++) {
    poseCov[i * 7] = i < 3 ? 0.01 : 0.001;
    twistCov[i * 7] = i < 3 ? 0.0025 : 0.0004;
  }
  return {
    header: { stamp: secondsToStamp(stampS), frame_id: frame },
    child_frame_id: 'base_link',
    pose: {
      pose: {
        position: { x: st.x, y: st.y, z: 0 },
        orientation: { x: 0, y: 0, z: Math.sin(st.yaw / 2), w: Math.cos(st.yaw / 2) },
      },
      covariance: poseCov,
    },
    twist: {
      twist: { linear: { x: st.v, y: 0, z: 0 }, angular: { x: 0, y: 0, z: st.v * st.kappa } },
      covariance: twistCov,
    },
  };
}

/** A camera frame (rgb8) rendered from the car's pose; with render off, a flat grey frame (for measuring the loop alone). */
export function cameraImage(
  scene: Scene,
  st: VehicleState,
  cam: CameraSpec,
  width: number,
  height: number,
  trueS: number,
  stampS: number,
  render: boolean,
): Image {
  const data = render ? renderCamera(scene, st, cam, width, height, trueS) : flatFrame(width, height);
  return {
    header: { stamp: secondsToStamp(stampS), frame_id: cam.name },
    height,
    width,
    encoding: 'rgb8',
    is_bigendian: 0,
    step: width * 3,
    data,
  };
}

let flat: Uint8Array | undefined;
function flatFrame(width: number, height: number): Uint8Array {
  if (!flat || flat.length !== width * height * 3) flat = new Uint8Array(width * height * 3).fill(128);
  return flat;
}
