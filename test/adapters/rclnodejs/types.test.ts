// Compile-time checks against rclnodejs's own declarations plus types/rclnodejs-augment.d.ts, run by `tsc` in
// `npm test` (each @ts-expect-error fails the build if the error disappears). Nothing here runs rclnodejs.
import type { Node } from 'rclnodejs';
import { expect } from 'chai';

export function typeChecks(node: Node): void {
  const pub = node.createPublisher('ar1_msgs/msg/UnicycleCommand', '/vehicle/unicycle_command');
  pub.publish({
    header: { stamp: { sec: 1, nanosec: 0 }, frame_id: 'rig' },
    acceleration: -2.5,
    curvature: 0,
    speed: 3,
    source: 1,
  });
  pub.publish({
    header: { stamp: { sec: 1, nanosec: 0 }, frame_id: 'rig' },
    // @ts-expect-error "accel" is not a field of ar1_msgs/msg/UnicycleCommand
    accel: -2.5,
    curvature: 0,
    speed: 3,
    source: 1,
  });
  // @ts-expect-error not a message type this suite declares
  node.createPublisher('ar1_msgs/msg/UnicycleCmd', '/x');
  node.createSubscription(
    'sensor_msgs/msg/Image',
    '/camera',
    {},
    (m: { data: Uint8Array | number[]; width: number }) => {
      void m.width;
    },
  );
}

describe('rclnodejs typings', () => {
  it('are checked by tsc (see the @ts-expect-error lines in this file)', () => {
    expect(typeChecks).to.be.a('function');
  });
});
