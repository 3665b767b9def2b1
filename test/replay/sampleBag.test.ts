import { expect } from 'chai';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import sharp from 'sharp';
import { openBag } from '../../nodes/adapters/mcap/index.js';
import type { CompressedImage, Odometry } from '../../nodes/core/msgs.js';
import { stampToNanos } from '../../nodes/core/time.js';
import {
  makeSampleBag,
  SAMPLE_CAMERAS,
  SAMPLE_ODOMETRY_TOPIC,
  sampleCameraTopic,
} from '../../nodes/replay/sampleBag.js';
import { tempDir } from '../adapters/mcap/fixtures.js';

describe('replay/sampleBag', function () {
  this.timeout(60000);
  const tmp = tempDir('sample');
  const dir = join(tmp.dir, 'sample');
  const odom: Array<{ logNs: bigint; msg: Odometry }> = [];
  const cams = new Map<string, Array<{ logNs: bigint; msg: CompressedImage }>>();
  let bytes = 0;

  before(async () => {
    const r = await makeSampleBag(dir, { seed: 7 });
    bytes = readFileSync(r.file).byteLength;
    const bag = await openBag(dir);
    try {
      for await (const m of bag.messages({ decode: true })) {
        if (m.topic === SAMPLE_ODOMETRY_TOPIC) odom.push({ logNs: m.logTimeNs, msg: m.message as Odometry });
        else {
          const list = cams.get(m.topic) ?? [];
          list.push({ logNs: m.logTimeNs, msg: m.message as CompressedImage });
          cams.set(m.topic, list);
        }
      }
    } finally {
      await bag.close();
    }
  });
  after(() => tmp.cleanup());

  it('has odometry and the four AR1 cameras, ~20 s, a few MB', () => {
    expect([...cams.keys()]).to.deep.equal(SAMPLE_CAMERAS.map((c) => sampleCameraTopic(c.name)));
    expect(SAMPLE_CAMERAS.map((c) => c.name)).to.deep.equal([
      'camera_cross_left_120fov',
      'camera_front_wide_120fov',
      'camera_cross_right_120fov',
      'camera_front_tele_30fov',
    ]);
    const span = Number(odom[odom.length - 1]!.logNs - odom[0]!.logNs) * 1e-9;
    expect(span).to.be.within(19.9, 20.1);
    expect(bytes).to.be.within(1e6, 8e6);
  });

  it('odometry at 50 Hz and cameras at 10 Hz, stamps jittered by a few ms and never after the log time', () => {
    expect(odom.length).to.equal(1001);
    const dt = odom
      .slice(1)
      .map((o, i) => Number(stampToNanos(o.msg.header.stamp) - stampToNanos(odom[i]!.msg.header.stamp)) * 1e-9);
    expect(Math.min(...dt)).to.be.within(0.0185, 0.02);
    expect(Math.max(...dt)).to.be.within(0.02, 0.0215);
    expect(dt.some((d) => Math.abs(d - 0.02) > 1e-5)).to.equal(true); // jitter exists
    for (const [topic, frames] of cams) {
      expect(frames.length, topic).to.equal(201);
      const cdt = frames
        .slice(1)
        .map((f, i) => Number(stampToNanos(f.msg.header.stamp) - stampToNanos(frames[i]!.msg.header.stamp)) * 1e-9);
      expect(Math.min(...cdt)).to.be.within(0.095, 0.1);
      expect(Math.max(...cdt)).to.be.within(0.1, 0.105);
      for (const f of frames) expect(f.logNs > stampToNanos(f.msg.header.stamp)).to.equal(true);
    }
  });

  it('odometry is kinematically consistent: positions integrate the twist, frames odom → base_link', () => {
    let maxErr = 0;
    for (let i = 1; i < odom.length; i++) {
      const a = odom[i - 1]!.msg;
      const b = odom[i]!.msg;
      expect(b.header.frame_id).to.equal('odom');
      expect(b.child_frame_id).to.equal('base_link');
      const dt = Number(stampToNanos(b.header.stamp) - stampToNanos(a.header.stamp)) * 1e-9;
      const yaw = (o: Odometry) => 2 * Math.atan2(o.pose.pose.orientation.z, o.pose.pose.orientation.w);
      const v = (a.twist.twist.linear.x + b.twist.twist.linear.x) / 2;
      const h = (yaw(a) + yaw(b)) / 2;
      const ex = a.pose.pose.position.x + v * Math.cos(h) * dt - b.pose.pose.position.x;
      const ey = a.pose.pose.position.y + v * Math.sin(h) * dt - b.pose.pose.position.y;
      maxErr = Math.max(maxErr, Math.hypot(ex, ey));
      const dyaw = yaw(b) - yaw(a);
      const wz = (a.twist.twist.angular.z + b.twist.twist.angular.z) / 2;
      expect(Math.abs(dyaw - wz * dt)).to.be.lessThan(1e-3);
    }
    expect(maxErr).to.be.lessThan(0.01); // [m] per 20 ms step
  });

  it('drives straight, curves left, brakes to a stop and pulls away', () => {
    const at = (t: number) => odom[Math.round(t * 50)]!.msg;
    const speed = (t: number) => at(t).twist.twist.linear.x;
    const yawRate = (t: number) => at(t).twist.twist.angular.z;
    expect(speed(1)).to.be.closeTo(10, 0.01);
    expect(yawRate(1)).to.equal(0);
    expect(yawRate(5)).to.be.closeTo(10 / 40, 0.01); // radius 40 m at 10 m/s
    expect(Math.min(...odom.map((o) => o.msg.twist.twist.linear.x))).to.equal(0);
    expect(speed(14)).to.equal(0);
    expect(speed(19.9)).to.be.greaterThan(6);
    const yawEnd = 2 * Math.atan2(at(20).pose.pose.orientation.z, at(20).pose.pose.orientation.w);
    expect(yawEnd).to.be.within(0.7, 1.2);
  });

  it('camera frames are 320×180 JPEGs that differ between cameras and over time', async () => {
    const front = cams.get(sampleCameraTopic('camera_front_wide_120fov'))!;
    const left = cams.get(sampleCameraTopic('camera_cross_left_120fov'))!;
    expect(front[0]!.msg.format).to.equal('jpeg');
    const meta = await sharp(front[50]!.msg.data).metadata();
    expect([meta.format, meta.width, meta.height]).to.deep.equal(['jpeg', 320, 180]);
    const raw = async (d: Uint8Array) => await sharp(d).raw().toBuffer();
    const diff = async (a: Uint8Array, b: Uint8Array) => {
      const [x, y] = [await raw(a), await raw(b)];
      let s = 0;
      for (let i = 0; i < x.length; i++) s += Math.abs(x[i]! - y[i]!);
      return s / x.length;
    };
    expect(await diff(front[50]!.msg.data, left[50]!.msg.data)).to.be.greaterThan(5);
    expect(await diff(front[0]!.msg.data, front[50]!.msg.data)).to.be.greaterThan(1);
    expect(front.every((f) => f.msg.data.byteLength < 20000)).to.equal(true);
  });

  it('is deterministic for a seed and differs for another seed', async () => {
    const a = await makeSampleBag(join(tmp.dir, 'a'), { seed: 7, durationS: 2 });
    const b = await makeSampleBag(join(tmp.dir, 'b'), { seed: 7, durationS: 2 });
    const c = await makeSampleBag(join(tmp.dir, 'c'), { seed: 8, durationS: 2 });
    expect(readFileSync(a.file).equals(readFileSync(b.file))).to.equal(true);
    expect(readFileSync(a.file).equals(readFileSync(c.file))).to.equal(false);
  });
});
