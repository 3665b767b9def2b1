import { expect } from 'chai';
import * as grpc from '@grpc/grpc-js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Parser } from 'pickleparser';
import { createOnnxEngine } from '../../nodes/adapters/onnxruntime/index.js';
import type { PlanningEngine } from '../../nodes/core/planningEngine.js';
import { MemoryLogger } from '../../nodes/core/logger.js';
import { makeDemoBundle } from '../../nodes/syntheticBundles/demoBundle.js';
import { loadDriverParams } from '../../nodes/alpasim/params.js';
import { startDriverServer, type RunningServer } from '../../nodes/alpasim/server.js';
import { EgodriverService, type DriverServiceOptions } from '../../nodes/alpasim/service.js';
import {
  call,
  callRaw,
  CAMERAS,
  cameraSpec,
  connect,
  egoAt,
  egomotion,
  makeImages,
  rollout,
  us,
  type Client,
  type DriveReply,
} from './runtime.js';

type Debug = {
  reasoning_text: string | null;
  source: string;
  num_frames: Record<string, number>;
  watchdog_state: string;
  trajectory_points: number;
};
const debugOf = (r: DriveReply): Debug => new Parser().parse<Debug>(r.debug_info!.unstructured_debug_info);
const poses = (r: DriveReply) => r.trajectory?.poses ?? [];

async function expectStatus(p: Promise<unknown>, code: grpc.status, message: RegExp): Promise<void> {
  try {
    await p;
  } catch (e) {
    const err = e as grpc.ServiceError;
    expect(err.code, `${err.code} ${err.details}`).to.equal(code);
    expect(err.details).to.match(message);
    return;
  }
  expect.fail(`expected status ${grpc.status[code]}, got OK`);
}

describe('alpasim driver: EgodriverService over gRPC on the loopback', function () {
  this.timeout(120000);
  let dir: string;
  let engine: PlanningEngine;
  let images: Buffer[];
  const servers: RunningServer[] = [];
  const clients: Client[] = [];

  async function serve(
    overrides: Partial<DriverServiceOptions> = {},
  ): Promise<{ client: Client; service: EgodriverService; log: MemoryLogger; server: RunningServer }> {
    const { planner, watchdog } = loadDriverParams([], 1);
    const log = new MemoryLogger();
    const service = new EgodriverService({
      engine,
      planner,
      watchdog,
      latency: { kind: 'fixed', ms: 0 },
      seed: undefined,
      watchdogBraking: true,
      logger: log,
      version: 'test',
      maxImageBytes: 1 << 20,
      maxPosesPerRequest: 1000,
      ...overrides,
    });
    const server = await startDriverServer(service, { listen: '127.0.0.1:0', maxReceiveBytes: 4 << 20, logger: log });
    servers.push(server);
    const client = connect(server.port);
    clients.push(client);
    return { client, service, log, server };
  }

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ar1-alpasim-'));
    makeDemoBundle(join(dir, 'bundle'));
    engine = await createOnnxEngine({ bundleDir: join(dir, 'bundle'), executionProviders: ['cpu'] });
    images = await makeImages(engine.contract.imageWidth, engine.contract.imageHeight, 6);
  });
  after(async () => {
    for (const c of clients) c.close();
    for (const s of servers) await s.close();
    await engine.close();
    rmSync(dir, { recursive: true, force: true });
  });

  describe('a whole rollout: four cameras, 10 Hz steps', () => {
    let replies: DriveReply[];
    let log: MemoryLogger;
    let service: EgodriverService;
    before(async () => {
      const s = await serve();
      log = s.log;
      service = s.service;
      replies = await rollout(s.client, { session: 'rollout-1', images, steps: 30 });
    });

    it('answers empty until the history is long enough, then with a plan at every step', () => {
      expect(replies).to.have.length(30);
      const first = replies.findIndex((r) => poses(r).length > 0);
      // Four frames per camera at 0.1 s spacing: the first frame set is complete at step 3.
      expect(first).to.equal(3);
      for (const r of replies.slice(0, first)) {
        expect(poses(r)).to.have.length(0);
        expect(debugOf(r).reasoning_text).to.equal(null);
      }
      for (const r of replies.slice(first)) expect(debugOf(r).source).to.equal('planner');
    });

    it('the trajectory: the current pose at time_now_us, then 64 waypoints at +0.1 s … +6.4 s in the local frame', () => {
      replies.forEach((r, k) => {
        const p = poses(r);
        if (!p.length) return;
        expect(p).to.have.length(65);
        const t = k * 0.1;
        expect(p[0]!.timestamp_us).to.equal(us(t).toString());
        const e = egoAt(t);
        expect(p[0]!.pose.vec.x).to.be.closeTo(e.x, 1e-3);
        expect(p[0]!.pose.vec.y).to.be.closeTo(e.y, 1e-3);
        for (let i = 1; i < 65; i++)
          expect(BigInt(p[i]!.timestamp_us) - BigInt(p[i - 1]!.timestamp_us)).to.equal(100_000n);
        // The demo model keeps roughly its speed: the first waypoint lies ahead of the car along its heading, in the local frame.
        const dx = p[1]!.pose.vec.x - e.x;
        const dy = p[1]!.pose.vec.y - e.y;
        const ahead = dx * Math.cos(e.yaw) + dy * Math.sin(e.yaw);
        const side = -dx * Math.sin(e.yaw) + dy * Math.cos(e.yaw);
        expect(ahead).to.be.within(0.3, 2.5);
        expect(Math.abs(side)).to.be.lessThan(0.5);
        for (const q of p) {
          const n = q.pose.quat.w ** 2 + q.pose.quat.x ** 2 + q.pose.quat.y ** 2 + q.pose.quat.z ** 2;
          expect(n).to.be.closeTo(1, 1e-6);
          expect(q.pose.vec.z).to.be.closeTo(1.25, 1e-6);
        }
      });
    });

    it("reasoning text in the pickled debug info, where AlpaSim's evaluation reads it", () => {
      const d = debugOf(replies[10]!);
      expect(d.reasoning_text).to.be.a('string').and.not.equal('');
      expect(d.num_frames).to.deep.equal(Object.fromEntries(CAMERAS.map((c) => [c, 11])));
      expect(d.watchdog_state).to.equal('nominal');
      expect(d.trajectory_points).to.equal(64);
    });

    it('logs the accounting at close: every frame planned or dropped with a reason', () => {
      const s = service.closed.find((c) => c.uuid === 'rollout-1')!;
      expect(s.framesReceived).to.equal(120);
      const dropped = Object.values(s.framesDropped).reduce((a, b) => a + b, 0);
      expect(s.framesPlanned + dropped).to.equal(120);
      expect(s.framesPlanned).to.be.greaterThan(90);
      expect(s.responses).to.deep.equal({ planner: 27, watchdog_braking: 0, none: 3 });
      expect(log.records.map((r) => r.message).join('\n')).to.match(
        /session rollout-1 closed: frames received 120, planned \d+, dropped .*drives 30 \(planner 27/,
      );
    });
  });

  it('four concurrent sessions interleave, each with its own state, and match a session run alone', async () => {
    const { client } = await serve();
    const alone = await rollout(client, { session: 'alone', images, steps: 12 });
    const together = await Promise.all(
      ['a', 'b', 'c', 'd'].map((id) => rollout(client, { session: id, images, steps: 12 })),
    );
    const strip = (rs: DriveReply[]) => JSON.stringify(rs.map((r) => ({ t: r.trajectory, d: debugOf(r) })));
    for (const rs of together) expect(strip(rs)).to.equal(strip(alone));
    expect(poses(alone[11]!)).to.have.length(65);
  });

  it('the order observations arrive in does not change the answer (they are fed in time order at drive)', async () => {
    const { service } = await serve();
    const WARMUP = 4; // no drive during the first steps (AlpaSim's force-GT warm-up): their observations pile up
    const run = async (id: string, shuffled: boolean) => {
      service.startSession({
        session_uuid: id,
        random_seed: '5',
        rollout_spec: { vehicle: { available_cameras: cameraSpec(CAMERAS) as never } },
      });
      const images4 = (k: number) =>
        CAMERAS.map(
          (cam, c) => () =>
            service.submitImage({
              session_uuid: id,
              camera_image: {
                frame_start_us: us(k * 0.1 - 0.03).toString(),
                frame_end_us: us(k * 0.1).toString(),
                image_bytes: images[(k + c) % images.length]!,
                logical_id: cam,
              },
            }),
        );
      const ego = (k: number) =>
        service.submitEgomotion(
          (k === 0
            ? egomotion(
                id,
                Array.from({ length: 21 }, (_, i) => -2 + i * 0.1),
                true,
              )
            : egomotion(id, [k * 0.1], false)) as never,
        );
      const drive = (k: number) =>
        service.drive({
          session_uuid: id,
          time_now_us: us(k * 0.1).toString(),
          time_query_us: us(k * 0.1 + 0.1).toString(),
          renderer_data: Buffer.alloc(0),
        });
      const out: unknown[] = [];
      if (shuffled) {
        // Every warm-up image first, newest step first and cameras reversed, then the egomotion (which must stay in order).
        for (let k = WARMUP - 1; k >= 0; k--) for (const f of images4(k).reverse()) await f();
        for (let k = 0; k < WARMUP; k++) ego(k);
      } else {
        for (let k = 0; k < WARMUP; k++) {
          ego(k);
          for (const f of images4(k)) await f();
        }
      }
      out.push(await drive(WARMUP - 1));
      for (let k = WARMUP; k < 10; k++) {
        if (shuffled) {
          ego(k);
          for (const f of images4(k).reverse()) await f();
        } else {
          for (const f of images4(k)) await f();
          ego(k);
        }
        out.push(await drive(k));
      }
      await service.closeSession({ session_uuid: id });
      return out as DriveReply[];
    };
    const a = await run('order-a', false);
    expect(JSON.stringify(await run('order-b', true))).to.equal(JSON.stringify(a));
    expect(poses(a[0]!)).to.have.length(65);
    expect(poses(a[6]!)).to.have.length(65);
  });

  it('is deterministic for a fixed seed and latency; another seed gives another plan', async () => {
    const { client } = await serve({ seed: 7 });
    const a = await rollout(client, { session: 's1', images, steps: 8, seed: '1' });
    const b = await rollout(client, { session: 's2', images, steps: 8, seed: '2' });
    expect(JSON.stringify(a)).to.equal(JSON.stringify(b)); // --seed fixes the planner seed over the session's
    const { client: c2 } = await serve();
    const x = await rollout(c2, { session: 's3', images, steps: 8, seed: '1' });
    const y = await rollout(c2, { session: 's4', images, steps: 8, seed: '3' });
    expect(JSON.stringify(poses(x[7]!))).not.to.equal(JSON.stringify(poses(y[7]!)));
  });

  it('with a modelled latency the plan of the previous step is returned, its past waypoints dropped', async () => {
    const { client } = await serve({ latency: { kind: 'fixed', ms: 100 } });
    const r = await rollout(client, { session: 'late', images, steps: 8 });
    expect(poses(r[3]!)).to.have.length(0);
    const p = poses(r[4]!);
    expect(p).to.have.length(64); // plan of t0 = 0.3 s: its waypoint at 0.4 s is the current pose's time
    expect(BigInt(p[1]!.timestamp_us) - BigInt(p[0]!.timestamp_us)).to.equal(100_000n);
  });

  it('with several samples per plan, every sample goes to sampled_trajectories in the same frame (AlpaSim scores minADE on them)', async () => {
    const { planner, watchdog } = loadDriverParams([], 3);
    const { client } = await serve({ planner, watchdog });
    const r = await rollout(client, { session: 'samples', images, steps: 6 });
    expect(r[2]!.debug_info!.sampled_trajectories).to.have.length(0);
    const last = r[5]!;
    const sampled = last.debug_info!.sampled_trajectories as Array<{
      poses: NonNullable<DriveReply['trajectory']>['poses'];
    }>;
    expect(sampled).to.have.length(3);
    expect(JSON.stringify(sampled[0]!.poses)).to.equal(JSON.stringify(poses(last)));
    for (const s of sampled) expect(s.poses).to.have.length(65);
    expect(JSON.stringify(sampled[1]!.poses)).not.to.equal(JSON.stringify(sampled[0]!.poses));
  });

  describe("the watchdog's braking when plans stop", () => {
    it('replaces the stale plan by default (speed falls along the trajectory)', async () => {
      const { client } = await serve();
      const r = await rollout(client, { session: 'dropout', images, steps: 20, noImagesFrom: 8 });
      expect(debugOf(r[9]!).source).to.equal('planner');
      const last = r[19]!;
      const d = debugOf(last);
      expect(d.source).to.equal('watchdog_braking');
      expect(d.watchdog_state).to.equal('fallback');
      const p = poses(last);
      expect(p).to.have.length(65);
      const step = (i: number) =>
        Math.hypot(p[i + 1]!.pose.vec.x - p[i]!.pose.vec.x, p[i + 1]!.pose.vec.y - p[i]!.pose.vec.y);
      expect(step(0)).to.be.within(0.8, 1.01); // ~10 m/s, braking starts
      expect(step(20)).to.be.lessThan(step(0));
      expect(step(63)).to.equal(0); // stopped within 6.4 s
    });

    it("with the emergency profile selected for a stale plan, the trajectory brakes with it (the watchdog's profile in use)", async () => {
      const file = join(dir, 'emergency.yaml');
      writeFileSync(file, 'ar1_watchdog:\n  ros__parameters:\n    emergency:\n      faults: [plan_stale]\n');
      const { planner, watchdog } = loadDriverParams([file], 1);
      const normal = await rollout((await serve()).client, {
        session: 'dropout-fallback',
        images,
        steps: 20,
        noImagesFrom: 8,
      });
      const strong = await rollout((await serve({ planner, watchdog })).client, {
        session: 'dropout-emergency',
        images,
        steps: 20,
        noImagesFrom: 8,
      });
      expect(debugOf(strong[19]!).source).to.equal('watchdog_braking');
      const travelled = (r: DriveReply) => {
        const p = poses(r);
        return Math.hypot(p[64]!.pose.vec.x - p[0]!.pose.vec.x, p[64]!.pose.vec.y - p[0]!.pose.vec.y);
      };
      expect(travelled(strong[19]!)).to.be.lessThan(travelled(normal[19]!) - 2);
      // 1.5 s in, the car still moves and brakes at the profile's target: −3.5 m/s² (emergency), not −2.5 (fallback).
      const speed = (r: DriveReply, i: number) => {
        const p = poses(r);
        return Math.hypot(p[i + 1]!.pose.vec.x - p[i]!.pose.vec.x, p[i + 1]!.pose.vec.y - p[i]!.pose.vec.y) / 0.1;
      };
      expect((speed(strong[19]!, 16) - speed(strong[19]!, 15)) / 0.1).to.be.closeTo(-3.5, 0.05);
      expect((speed(normal[19]!, 16) - speed(normal[19]!, 15)) / 0.1).to.be.closeTo(-2.5, 0.05);
    });

    it('off: the latest plan is returned as it is', async () => {
      const { client } = await serve({ watchdogBraking: false });
      const r = await rollout(client, { session: 'dropout-off', images, steps: 20, noImagesFrom: 8 });
      const d = debugOf(r[19]!);
      expect(d.source).to.equal('planner');
      expect(d.watchdog_state).to.equal('fallback');
      expect(poses(r[19]!).length).to.be.within(50, 64);
    });
  });

  describe('errors: status codes with messages; the server and the session survive', () => {
    let client: Client;
    before(async () => {
      ({ client } = await serve());
      await call(client, 'start_session', {
        session_uuid: 'e',
        random_seed: '1',
        rollout_spec: { vehicle: { available_cameras: cameraSpec(CAMERAS) } },
      });
      await call(client, 'submit_egomotion_observation', egomotion('e', [0, 0.1], true));
    });
    const img = (over: Record<string, unknown> = {}) => ({
      session_uuid: 'e',
      camera_image: {
        frame_start_us: us(0.07).toString(),
        frame_end_us: us(0.1).toString(),
        image_bytes: images[0],
        logical_id: CAMERAS[0],
        ...over,
      },
    });

    it('get_version names the driver and the API version', async () => {
      const v = await call<{ version_id: string; grpc_api_version: { major: number; minor: number } }>(
        client,
        'get_version',
        {},
      );
      expect(v.version_id).to.match(/^ar1-ros-driver-test \(ar1-demo@1\.0\.0\)$/);
      expect(v.grpc_api_version).to.include({ major: 0, minor: 54 });
    });

    it('drive before start_session, and every RPC on an unknown session: NOT_FOUND', async () => {
      await expectStatus(
        call(client, 'drive', { session_uuid: 'nope', time_now_us: us(0).toString() }),
        grpc.status.NOT_FOUND,
        /session_uuid: no open session "nope" \(call start_session first/,
      );
      await expectStatus(
        call(client, 'submit_image_observation', img({}) && { ...img(), session_uuid: 'nope' }),
        grpc.status.NOT_FOUND,
        /nope/,
      );
      await expectStatus(
        call(client, 'submit_egomotion_observation', egomotion('nope', [0], true)),
        grpc.status.NOT_FOUND,
        /nope/,
      );
      await expectStatus(call(client, 'submit_route', { session_uuid: 'nope' }), grpc.status.NOT_FOUND, /nope/);
      await expectStatus(
        call(client, 'submit_recording_ground_truth', { session_uuid: 'nope' }),
        grpc.status.NOT_FOUND,
        /nope/,
      );
      await expectStatus(call(client, 'close_session', { session_uuid: 'nope' }), grpc.status.NOT_FOUND, /nope/);
      await expectStatus(
        call(client, 'drive', { session_uuid: '', time_now_us: '0' }),
        grpc.status.INVALID_ARGUMENT,
        /session_uuid: expected a session id, got ""/,
      );
    });

    it('start_session: a planner camera missing, a camera without id, a session already open', async () => {
      await expectStatus(
        call(client, 'start_session', {
          session_uuid: 'm',
          rollout_spec: { vehicle: { available_cameras: cameraSpec(CAMERAS.slice(0, 3)) } },
        }),
        grpc.status.INVALID_ARGUMENT,
        /rollout_spec\.vehicle\.available_cameras: expected the planner's cameras .*; missing camera_front_tele_30fov/,
      );
      await expectStatus(
        call(client, 'start_session', {
          session_uuid: 'm',
          rollout_spec: { vehicle: { available_cameras: [...cameraSpec(CAMERAS), { logical_id: '' }] } },
        }),
        grpc.status.INVALID_ARGUMENT,
        /available_cameras\[4\]\.logical_id: expected a camera name/,
      );
      await expectStatus(
        call(client, 'start_session', {
          session_uuid: 'e',
          rollout_spec: { vehicle: { available_cameras: cameraSpec(CAMERAS) } },
        }),
        grpc.status.ALREADY_EXISTS,
        /session "e" is already open/,
      );
    });

    it('a camera not in the session, a corrupt image, an oversize image, a duplicate frame', async () => {
      await expectStatus(
        call(client, 'submit_image_observation', img({ logical_id: 'camera_rear' })),
        grpc.status.INVALID_ARGUMENT,
        /camera_image\.logical_id: expected a camera of session "e" .*got "camera_rear"/,
      );
      await expectStatus(
        call(client, 'submit_image_observation', img({ image_bytes: images[0]!.subarray(0, images[0]!.length >> 1) })),
        grpc.status.INVALID_ARGUMENT,
        /camera_image\.image_bytes: cannot decode the image \(\d+ bytes\): corrupt or truncated image data$/,
      );
      await expectStatus(
        call(client, 'submit_image_observation', img({ image_bytes: Buffer.from('not an image at all') })),
        grpc.status.INVALID_ARGUMENT,
        /camera_image\.image_bytes: (cannot decode|expected JPEG or PNG)/,
      );
      await expectStatus(
        call(client, 'submit_image_observation', img({ image_bytes: Buffer.alloc((1 << 20) + 1) })),
        grpc.status.RESOURCE_EXHAUSTED,
        /camera_image\.image_bytes: expected at most 1048576 bytes, got 1048577/,
      );
      await call(client, 'submit_image_observation', img());
      await expectStatus(
        call(client, 'submit_image_observation', img()),
        grpc.status.INVALID_ARGUMENT,
        /frame_end_us: camera camera_cross_left_120fov already has a frame/,
      );
      // The session survives: drive still answers.
      const r = await call<DriveReply>(client, 'drive', { session_uuid: 'e', time_now_us: us(0.1).toString() });
      expect(debugOf(r).num_frames['camera_cross_left_120fov']).to.equal(1);
    });

    it('egomotion: a non-unit quaternion, unordered timestamps, dynamic_states count', async () => {
      const bad = egomotion('e', [0.2], false);
      bad.trajectory.poses[0]!.pose.quat = { w: 0.5, x: 0, y: 0, z: 0 };
      await expectStatus(
        call(client, 'submit_egomotion_observation', bad),
        grpc.status.INVALID_ARGUMENT,
        /trajectory\.poses\[0\]\.pose\.quat: expected a unit quaternion/,
      );
      const unordered = egomotion('e', [0.3, 0.2], false);
      await expectStatus(
        call(client, 'submit_egomotion_observation', unordered),
        grpc.status.INVALID_ARGUMENT,
        /trajectory\.poses\[1\]\.timestamp_us: expected strictly increasing/,
      );
      const counts = egomotion('e', [0.2, 0.3], false);
      counts.dynamic_states.pop();
      await expectStatus(
        call(client, 'submit_egomotion_observation', counts),
        grpc.status.INVALID_ARGUMENT,
        /dynamic_states: expected 2 \(one per trajectory pose\), got 1/,
      );
      // Poses older than one already received: the whole request is refused, nothing of it kept.
      await expectStatus(
        call(client, 'submit_egomotion_observation', egomotion('e', [0.05, 0.2], false)),
        grpc.status.INVALID_ARGUMENT,
        /trajectory\.poses: expected poses at or after the latest one received \(\d+ µs\), got \d+ µs/,
      );
      await expectStatus(
        call(
          client,
          'submit_egomotion_observation',
          egomotion(
            'e',
            Array.from({ length: 1001 }, (_, i) => 1 + i * 0.01),
            false,
          ),
        ),
        grpc.status.RESOURCE_EXHAUSTED,
        /trajectory\.poses: expected at most 1000 poses per request, got 1001/,
      );
    });

    it('malformed bytes: INVALID_ARGUMENT naming the field; a request over the size limit: RESOURCE_EXHAUSTED', async () => {
      // Field 3 (time_now_us, fixed64) sent as a length-delimited field.
      await expectStatus(
        callRaw(client, 'drive', Buffer.from([0x0a, 0x01, 0x65, 0x1a, 0x02, 0x01, 0x02])),
        grpc.status.INVALID_ARGUMENT,
        /DriveRequest: cannot decode the request: time_now_us: expected wire type 1/,
      );
      // camera_image (field 3) says 50 bytes follow, only 2 do.
      await expectStatus(
        callRaw(client, 'submit_image_observation', Buffer.from([0x0a, 0x01, 0x65, 0x1a, 0x32, 0x01, 0x02])),
        grpc.status.INVALID_ARGUMENT,
        /RolloutCameraImage: cannot decode the request: camera_image: truncated value/,
      );
      // Inside camera_image: frame_end_us (fixed64) cut short.
      await expectStatus(
        callRaw(client, 'submit_image_observation', Buffer.from([0x1a, 0x03, 0x19, 0x01, 0x02])),
        grpc.status.INVALID_ARGUMENT,
        /camera_image\.frame_end_us: truncated value/,
      );
      await expectStatus(
        call(client, 'submit_image_observation', img({ image_bytes: Buffer.alloc(5 << 20) })),
        grpc.status.RESOURCE_EXHAUSTED,
        /larger than max/,
      );
      const r = await call<DriveReply>(client, 'drive', { session_uuid: 'e', time_now_us: us(0.1).toString() });
      expect(r.terminate_session).to.equal(false);
    });

    it('drive going back in time is refused; close_session then drive: NOT_FOUND; the id can start a new session (a retry)', async () => {
      await expectStatus(
        call(client, 'drive', { session_uuid: 'e', time_now_us: us(0).toString() }),
        grpc.status.INVALID_ARGUMENT,
        /time_now_us: expected >= the previous drive's/,
      );
      await call(client, 'close_session', { session_uuid: 'e' });
      await expectStatus(
        call(client, 'drive', { session_uuid: 'e', time_now_us: us(0.2).toString() }),
        grpc.status.NOT_FOUND,
        /no open session "e"/,
      );
      await expectStatus(
        call(client, 'close_session', { session_uuid: 'e' }),
        grpc.status.NOT_FOUND,
        /no open session "e"/,
      );
      await call(client, 'start_session', {
        session_uuid: 'e',
        random_seed: '1',
        rollout_spec: { vehicle: { available_cameras: cameraSpec(CAMERAS) } },
      });
      const r = await call<DriveReply>(client, 'drive', { session_uuid: 'e', time_now_us: us(0).toString() });
      expect(debugOf(r)).to.include({ source: 'none', reasoning_text: null });
      await call(client, 'close_session', { session_uuid: 'e' });
    });
  });
});
