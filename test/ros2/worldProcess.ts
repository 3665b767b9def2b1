/**
 * The world of the ROS 2 suite, in a process of its own so that the test process's own work (mocha, recording every
 * output) never delays a sensor message: four 1920×1080 JPEG cameras at 10 Hz and odometry at 50 Hz from a
 * straight-driving vehicle, optionally /clock at 100 Hz (a simulator's clock), optionally a vehicle whose speed
 * follows /vehicle/unicycle_command.
 *
 * Started by World.start (graph.ts): `node --import tsx worldProcess.ts '<WorldOptions as JSON>'`. Control lines on
 * stdin (JSON: WorldControl), a status line on stdout every 50 ms (JSON: WorldStatus), and "ready" once publishing.
 */
import { createInterface } from 'node:readline';
import { CAMERAS, cameraTopic, graphNode, closeGraph, qos, stampOfS, type UnicycleCommandMsg } from './graph.js';
import type { WorldControl, WorldOptions, WorldStatus } from './worldProtocol.js';

async function main(o: WorldOptions): Promise<void> {
  const node = await graphNode();
  const { default: sharp } = await import('sharp');
  // A road-like picture: brighter lower half. Real size, as the vehicle's compressed transport sends it.
  const jpeg = new Uint8Array(
    await sharp({ create: { width: 1920, height: 1080, channels: 3, background: { r: 90, g: 110, b: 120 } } })
      .composite([
        {
          input: { create: { width: 1920, height: 540, channels: 3, background: { r: 160, g: 160, b: 150 } } },
          top: 540,
          left: 0,
        },
      ])
      .jpeg({ quality: 70 })
      .toBuffer(),
  );
  const sensor = await qos('best_effort', 5);
  const cams = CAMERAS.map((c) =>
    node.createPublisher('sensor_msgs/msg/CompressedImage', cameraTopic(c), { qos: sensor }),
  );
  const odom = node.createPublisher('nav_msgs/msg/Odometry', '/localization/odometry', { qos: sensor });
  // rclnodejs's time source subscribes /clock reliable, depth 10: a reliable publisher matches it.
  const clockPub = o.simClock
    ? node.createPublisher('rosgraph_msgs/msg/Clock', '/clock', { qos: await qos('reliable') })
    : undefined;
  let lastCommand: UnicycleCommandMsg | undefined;
  node.createSubscription(
    'ar1_msgs/msg/UnicycleCommand',
    '/vehicle/unicycle_command',
    { qos: await qos('reliable') },
    (m: never) => {
      lastCommand = m as UnicycleCommandMsg;
    },
  );

  const stopped = new Set<string>();
  const dropNext = new Set<string>();
  let odometryStopped = false,
    obeying = false,
    stampOffsetS = 0,
    clockRunning = true;
  let simS = o.simClock?.startS ?? 0;
  let lastWallMs = performance.now();
  const now = () => (o.simClock ? simS : Number(node.now().nanoseconds) / 1e9);
  let speed = o.speedMps,
    x = 0,
    lastS: number | undefined,
    tick = 0;

  createInterface({ input: process.stdin }).on('line', (line) => {
    const c = JSON.parse(line) as WorldControl;
    if (c.stopCamera) stopped.add(c.stopCamera);
    if (c.dropFrame) dropNext.add(c.dropFrame);
    if (c.odometryStopped !== undefined) odometryStopped = c.odometryStopped;
    if (c.obeying !== undefined) obeying = c.obeying;
    if (c.stampOffsetS !== undefined) stampOffsetS = c.stampOffsetS;
    if (c.clockRunning !== undefined) clockRunning = c.clockRunning;
    if (c.clockStepS !== undefined) simS += c.clockStepS;
    if (c.exit) {
      clearInterval(clock);
      clearInterval(step);
      clearInterval(status);
      void closeGraph().then(() => process.exit(0));
    }
  });

  // /clock at 100 Hz: simulated time advances with wall time while running.
  const clock = setInterval(() => {
    const wall = performance.now();
    if (clockRunning) simS += (wall - lastWallMs) / 1000;
    lastWallMs = wall;
    if (clockPub && clockRunning) clockPub.publish({ clock: stampOfS(simS) });
  }, 10);

  const step = setInterval(() => {
    const t = now();
    if (!(t > 0)) return;
    const dt = lastS === undefined ? 0 : Math.min(0.1, Math.max(0, t - lastS));
    lastS = t;
    if (o.obeyCommands && obeying && lastCommand) speed = Math.max(0, speed + lastCommand.acceleration * dt);
    x += speed * dt;
    const stamp = stampOfS(t + stampOffsetS);
    if (!odometryStopped) {
      odom.publish({
        header: { stamp, frame_id: 'odom' },
        child_frame_id: 'base_link',
        pose: {
          pose: { position: { x, y: 0, z: 0 }, orientation: { x: 0, y: 0, z: 0, w: 1 } },
          covariance: new Array(36).fill(0),
        },
        twist: {
          twist: { linear: { x: speed, y: 0, z: 0 }, angular: { x: 0, y: 0, z: 0 } },
          covariance: new Array(36).fill(0),
        },
      });
    }
    if (tick++ % 5 === 0) {
      for (const [i, pub] of cams.entries()) {
        if (stopped.has(CAMERAS[i]!)) continue;
        if (dropNext.delete(CAMERAS[i]!)) continue;
        // A fresh array per publish: rclnodejs serialises a typed array's whole underlying buffer.
        pub.publish({ header: { stamp, frame_id: CAMERAS[i]! }, format: 'jpeg', data: jpeg.slice() });
      }
    }
  }, 20);

  const status = setInterval(() => {
    const s: WorldStatus = { speedMps: speed, xM: x, nowS: now() };
    process.stdout.write(`${JSON.stringify(s)}\n`);
  }, 50);
  process.stdout.write('ready\n');
}

main(JSON.parse(process.argv[2] ?? '{}') as WorldOptions).catch((e: unknown) => {
  process.stderr.write(`world: ${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
