/**
 * A tiny rasteriser for the sample bag's camera images: sky, ground, a road that follows the drive's path (edges
 * and a dashed centre line, offset laterally by a slow weave so the car is not always centred) and roadside posts,
 * seen through a pinhole camera on the car. Pure: same inputs, same RGB bytes.
 */

export interface CameraSpec {
  name: string;
  /** [rad] yaw relative to the car, positive left */
  yaw: number;
  /** [rad] horizontal field of view */
  hfov: number;
}

export interface Pose2 {
  x: number;
  y: number;
  yaw: number;
}

interface RoadSample {
  x: number;
  y: number;
  yaw: number;
  s: number;
}

export interface Scene {
  /** Road centreline samples (world frame). */
  road: RoadSample[];
  /** Lateral offset of the road centre from the path at arc length s [m]. */
  weave: (s: number) => number;
  /** Roadside posts (world frame). */
  posts: Array<{ x: number; y: number }>;
  /** A red barrier across the road (a level-crossing gate), standing until it lifts at `untilS`. */
  barrier?: { x: number; y: number; yaw: number; halfWidth: number; height: number; untilS: number };
  /** [m] half the road's width (default 3.6). */
  halfWidth?: number;
}

const ROAD_HALF_WIDTH = 3.6;
const LINE_HALF_WIDTH = 0.08;
const CAMERA_HEIGHT = 1.4;
const CAMERA_FORWARD = 1.5;
const NEAR = 0.5;
const FAR = 90;
const POST_HEIGHT = 2.5;
const POST_HALF_WIDTH = 0.15;

type Rgb = readonly [number, number, number];
// A light concrete road on darker grass: the demo bundle steers toward the brighter side, i.e. along the road.
const ASPHALT: Rgb = [176, 176, 170];
const PAINT: Rgb = [236, 236, 228];
const POST: Rgb = [120, 84, 52];
const BARRIER: Rgb = [150, 26, 26];

/** Road centre at a sample, shifted by the weave along the sample's normal. */
function centre(p: RoadSample, weave: (s: number) => number): { x: number; y: number; nx: number; ny: number } {
  const nx = -Math.sin(p.yaw);
  const ny = Math.cos(p.yaw);
  const w = weave(p.s);
  return { x: p.x + nx * w, y: p.y + ny * w, nx, ny };
}

class Raster {
  readonly data: Uint8Array;
  constructor(
    readonly width: number,
    readonly height: number,
  ) {
    this.data = new Uint8Array(width * height * 3);
  }

  /** Fills a convex polygon given in pixel coordinates. */
  fillConvex(pts: Array<[number, number]>, c: Rgb): void {
    if (pts.length < 3) return;
    let yMin = Infinity;
    let yMax = -Infinity;
    for (const [, y] of pts) {
      yMin = Math.min(yMin, y);
      yMax = Math.max(yMax, y);
    }
    const r0 = Math.max(0, Math.ceil(yMin - 0.5));
    const r1 = Math.min(this.height - 1, Math.floor(yMax - 0.5));
    for (let r = r0; r <= r1; r++) {
      const yc = r + 0.5;
      let xl = Infinity;
      let xr = -Infinity;
      for (let i = 0; i < pts.length; i++) {
        const [x0, y0] = pts[i]!;
        const [x1, y1] = pts[(i + 1) % pts.length]!;
        if ((y0 <= yc && y1 > yc) || (y1 <= yc && y0 > yc)) {
          const x = x0 + ((yc - y0) / (y1 - y0)) * (x1 - x0);
          xl = Math.min(xl, x);
          xr = Math.max(xr, x);
        }
      }
      const c0 = Math.max(0, Math.ceil(xl - 0.5));
      const c1 = Math.min(this.width - 1, Math.floor(xr - 0.5));
      for (let col = c0, o = (r * this.width + c0) * 3; col <= c1; col++, o += 3) {
        this.data[o] = c[0];
        this.data[o + 1] = c[1];
        this.data[o + 2] = c[2];
      }
    }
  }
}

/** Renders one camera image, RGB, row-major, `width × height × 3` bytes. */
/** Renders one camera frame at drive time `tS` (the barrier stands while tS < barrier.untilS). */
export function renderCamera(
  scene: Scene,
  car: Pose2,
  cam: CameraSpec,
  width: number,
  height: number,
  tS = 0,
): Uint8Array {
  const img = new Raster(width, height);
  const fx = width / 2 / Math.tan(cam.hfov / 2);
  const cx = width / 2;
  const cy = height / 2;
  // Sky and ground gradients; horizon at the principal point (no pitch).
  for (let r = 0; r < height; r++) {
    const sky = r < cy;
    const k = sky ? r / cy : (r - cy) / (height - cy);
    const c: Rgb = sky
      ? [Math.round(110 + 90 * k), Math.round(160 + 60 * k), 235]
      : [Math.round(62 - 20 * k), Math.round(92 - 24 * k), Math.round(44 - 14 * k)];
    for (let col = 0, o = r * width * 3; col < width; col++, o += 3) {
      img.data[o] = c[0];
      img.data[o + 1] = c[1];
      img.data[o + 2] = c[2];
    }
  }
  const yaw = car.yaw + cam.yaw;
  const px = car.x + CAMERA_FORWARD * Math.cos(car.yaw);
  const py = car.y + CAMERA_FORWARD * Math.sin(car.yaw);
  const cos = Math.cos(yaw);
  const sin = Math.sin(yaw);
  /** World ground point → camera (forward, left). */
  const toCam = (x: number, y: number): [number, number] => {
    const dx = x - px;
    const dy = y - py;
    return [dx * cos + dy * sin, -dx * sin + dy * cos];
  };
  const project = ([f, l]: [number, number], z: number): [number, number] => [
    cx - (fx * l) / f,
    cy - (fx * (z - CAMERA_HEIGHT)) / f,
  ];
  /** Clips a ground polygon (camera coords) to forward ≥ NEAR and fills it. */
  const fillGround = (poly: Array<[number, number]>, c: Rgb): void => {
    const clipped: Array<[number, number]> = [];
    for (let i = 0; i < poly.length; i++) {
      const a = poly[i]!;
      const b = poly[(i + 1) % poly.length]!;
      const ina = a[0] >= NEAR;
      const inb = b[0] >= NEAR;
      if (ina) clipped.push(a);
      if (ina !== inb) {
        const t = (NEAR - a[0]) / (b[0] - a[0]);
        clipped.push([NEAR, a[1] + t * (b[1] - a[1])]);
      }
    }
    if (clipped.length >= 3)
      img.fillConvex(
        clipped.map((p) => project(p, 0)),
        c,
      );
  };
  const dist2 = (x: number, y: number): number => (x - px) ** 2 + (y - py) ** 2;
  const near = scene.road.filter((p) => dist2(p.x, p.y) < FAR * FAR);
  const half = scene.halfWidth ?? ROAD_HALF_WIDTH;
  // Road surface then markings, far to near is unnecessary: the ground is flat, quads do not overlap much.
  for (let i = 0; i + 1 < near.length; i++) {
    const a = near[i]!;
    const b = near[i + 1]!;
    if (b.s - a.s > 3) continue; // not neighbours (filtered gap)
    const ca = centre(a, scene.weave);
    const cb = centre(b, scene.weave);
    const at = (c: typeof ca, off: number): [number, number] => toCam(c.x + c.nx * off, c.y + c.ny * off);
    fillGround([at(ca, -half), at(cb, -half), at(cb, half), at(ca, half)], ASPHALT);
    for (const edge of [-half + 0.2, half - 0.2]) {
      fillGround(
        [
          at(ca, edge - LINE_HALF_WIDTH),
          at(cb, edge - LINE_HALF_WIDTH),
          at(cb, edge + LINE_HALF_WIDTH),
          at(ca, edge + LINE_HALF_WIDTH),
        ],
        PAINT,
      );
    }
    if (Math.floor(a.s / 3) % 2 === 0) {
      fillGround(
        [at(ca, -LINE_HALF_WIDTH), at(cb, -LINE_HALF_WIDTH), at(cb, LINE_HALF_WIDTH), at(ca, LINE_HALF_WIDTH)],
        PAINT,
      );
    }
  }
  // The barrier: a vertical quad across the road, clipped to what is in front of the camera.
  const b = scene.barrier;
  if (b && tS < b.untilS) {
    const nx = -Math.sin(b.yaw);
    const ny = Math.cos(b.yaw);
    const l = toCam(b.x + nx * b.halfWidth, b.y + ny * b.halfWidth);
    const r = toCam(b.x - nx * b.halfWidth, b.y - ny * b.halfWidth);
    if (l[0] >= NEAR && r[0] >= NEAR) {
      const [ul0, vl0] = project(l, 0);
      const [ul1, vl1] = project(l, b.height);
      const [ur0, vr0] = project(r, 0);
      const [ur1, vr1] = project(r, b.height);
      img.fillConvex(
        [
          [ul0, vl0],
          [ur0, vr0],
          [ur1, vr1],
          [ul1, vl1],
        ],
        BARRIER,
      );
    }
  }
  // Posts, far first so nearer ones cover them.
  const posts = scene.posts
    .map((p) => toCam(p.x, p.y))
    .filter(([f]) => f >= NEAR && f < FAR)
    .sort((a, b) => b[0] - a[0]);
  for (const [f, l] of posts) {
    const [u0, v0] = project([f, l + POST_HALF_WIDTH], 0);
    const [u1, v1] = project([f, l - POST_HALF_WIDTH], POST_HEIGHT);
    img.fillConvex(
      [
        [u0, v0],
        [u1, v0],
        [u1, v1],
        [u0, v1],
      ],
      POST,
    );
  }
  return img.data;
}
