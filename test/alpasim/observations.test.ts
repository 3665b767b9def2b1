import { expect } from 'chai';
import sharp from 'sharp';
import { DriverError } from '../../nodes/alpasim/errors.js';
import {
  egomotionPoses,
  odometryMessage,
  prepareImage,
  unitQuat,
  usToStamp,
} from '../../nodes/alpasim/observations.js';

const thrown = (f: () => unknown): DriverError => {
  try {
    f();
  } catch (e) {
    return e as DriverError;
  }
  throw new Error('expected a throw');
};

describe('alpasim/observations: egomotion and images to planner inputs', () => {
  it('unitQuat normalises within 1e-4 of unit length and refuses beyond, naming the field', () => {
    const q = unitQuat('pose.quat', { w: 1.00004, x: 0, y: 0, z: 0 });
    expect(q.w).to.be.closeTo(1, 1e-12);
    const e = thrown(() => unitQuat('trajectory.poses[3].pose.quat', { w: 1.001, x: 0, y: 0, z: 0 }));
    expect(e.status).to.equal('INVALID_ARGUMENT');
    expect(e.message).to.match(
      /^trajectory\.poses\[3\]\.pose\.quat: expected a unit quaternion .* got \|q\|² = 1\.00200/,
    );
    expect(thrown(() => unitQuat('q', { w: Number.NaN, x: 0, y: 0, z: 0 })).message).to.match(
      /^q\.w: expected a finite number, got NaN/,
    );
  });

  it('the first batch carries local-frame velocities: rotated into the rig frame; later batches are rig frame already', () => {
    const yaw = Math.PI / 2;
    const req = (v: { x: number; y: number; z: number }) => ({
      session_uuid: 's',
      trajectory: {
        poses: [
          {
            timestamp_us: '1000000',
            pose: { vec: { x: 1, y: 2, z: 0 }, quat: { w: Math.cos(yaw / 2), x: 0, y: 0, z: Math.sin(yaw / 2) } },
          },
        ],
      },
      dynamic_states: [
        {
          linear_velocity: v,
          angular_velocity: { x: 0, y: 0, z: 0.2 },
          linear_acceleration: null,
          angular_acceleration: null,
        },
      ],
    });
    const first = egomotionPoses(req({ x: 0, y: 10, z: 0 }), true, 10)[0]!;
    expect(first.vx).to.be.closeTo(10, 1e-12);
    expect(first.vy).to.be.closeTo(0, 1e-12);
    const later = egomotionPoses(req({ x: 10, y: 0, z: 0 }), false, 10)[0]!;
    expect(later.vx).to.equal(10);
    const odo = odometryMessage(later, 'local', 'base_link');
    expect(odo.header.stamp).to.deep.equal({ sec: 1, nanosec: 0 });
    expect(odo.twist.twist.linear.x).to.equal(10);
    expect(odo.twist.twist.angular.z).to.equal(0.2);
    expect(odo.pose.covariance).to.have.length(36);
  });

  it("µs stamps convert exactly, at today's epoch too", () => {
    expect(usToStamp(1_700_000_000_123_457n)).to.deep.equal({ sec: 1_700_000_000, nanosec: 123_457_000 });
  });

  it('prepareImage: an image at the bundle size passes unchanged; another size is resized (JPEG); grey PNG too', async () => {
    const rgb = (w: number, h: number) =>
      sharp(Buffer.alloc(w * h * 3, 120), { raw: { width: w, height: h, channels: 3 } });
    const same = await rgb(320, 180).png().toBuffer();
    const a = await prepareImage('img', same, { width: 320, height: 180 });
    expect(a).to.include({ format: 'png', resized: false });
    expect(a.data).to.equal(same);
    const big = await rgb(640, 360).jpeg().toBuffer();
    const b = await prepareImage('img', big, { width: 320, height: 180 });
    expect(b).to.include({ format: 'jpeg', resized: true });
    expect(await sharp(b.data).metadata()).to.include({ width: 320, height: 180 });
    const grey = await sharp(Buffer.alloc(100 * 50, 7), { raw: { width: 100, height: 50, channels: 1 } })
      .png()
      .toBuffer();
    const c = await prepareImage('img', grey, { width: 320, height: 180 });
    expect(await sharp(c.data).metadata()).to.include({ width: 320, height: 180 });
  });

  it('prepareImage refuses what is not a complete JPEG or PNG, naming the field', async () => {
    const gif = await sharp(Buffer.alloc(16 * 16 * 3), { raw: { width: 16, height: 16, channels: 3 } })
      .gif()
      .toBuffer();
    for (const [bytes, re] of [
      [Buffer.alloc(0), /^camera_image\.image_bytes: expected JPEG or PNG bytes, got 0 bytes$/],
      [gif, /^camera_image\.image_bytes: expected JPEG or PNG, got gif/],
      [
        Buffer.from('\x89PNG\r\n\x1a\n garbage'),
        /^camera_image\.image_bytes: cannot decode the image \(17 bytes\): corrupt or unreadable header$/,
      ],
    ] as Array<[Buffer, RegExp]>) {
      try {
        await prepareImage('camera_image.image_bytes', bytes, { width: 16, height: 16 });
        expect.fail('expected a refusal');
      } catch (e) {
        expect((e as DriverError).status).to.equal('INVALID_ARGUMENT');
        expect((e as Error).message).to.match(re);
      }
    }
  });
});
