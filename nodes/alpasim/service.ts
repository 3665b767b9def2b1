/**
 * EgodriverService's RPCs on plain request objects (no gRPC here): the session registry, request checks that name
 * the field, and the mapping to DriverSession. server.ts binds this to @grpc/grpc-js.
 */
import type { PlanningEngine } from '../core/planningEngine.js';
import type { Logger } from '../core/logger.js';
import type { PlannerParams } from '../planner/params.js';
import type { LatencyModel } from '../replay/latencyModel.js';
import type { WatchdogParams } from '../watchdog/params.js';
import { DriverError, invalid } from './errors.js';
import { egomotionPoses, parseUs, prepareImage } from './observations.js';
import {
  GRPC_API_VERSION,
  type DriveRequestWire,
  type DriveResponseOut,
  type DriveSessionCloseRequestWire,
  type DriveSessionRequestWire,
  type GroundTruthRequestWire,
  type RolloutCameraImageWire,
  type RolloutEgoTrajectoryWire,
  type RouteRequestWire,
  type VersionIdOut,
} from './proto.js';
import { describeSummary, DriverSession, type SessionSettings, type SessionSummary } from './session.js';

export interface DriverServiceOptions {
  engine: PlanningEngine;
  /** Planner parameters (cameras on the compressed transport); the seed is set per session. */
  planner: PlannerParams;
  watchdog: WatchdogParams;
  latency: LatencyModel;
  /** A fixed planner seed for every session; undefined = the session's random_seed (mod 2^32). */
  seed: number | undefined;
  watchdogBraking: boolean;
  logger: Logger;
  version: string;
  /** Largest image accepted [bytes]; larger ones are refused naming camera_image.image_bytes. */
  maxImageBytes: number;
  /** Most poses in one egomotion request. */
  maxPosesPerRequest: number;
  /** Per-session hooks (recording); called once per session at start_session. */
  sessionHooks?: (
    uuid: string,
    seed: number,
  ) => Pick<SessionSettings, 'onPublished' | 'onResult'> & { finish(summary: SessionSummary): Promise<void> };
}

export class EgodriverService {
  readonly #o: DriverServiceOptions;
  readonly #sessions = new Map<string, { session: DriverSession; finish?: (s: SessionSummary) => Promise<void> }>();
  /** Summaries of closed sessions, newest last (bounded). */
  readonly closed: SessionSummary[] = [];

  constructor(options: DriverServiceOptions) {
    this.#o = options;
  }

  get openSessions(): number {
    return this.#sessions.size;
  }

  #uuid(field: string, uuid: string): string {
    if (typeof uuid !== 'string' || uuid.length === 0) throw invalid(`${field}: expected a session id, got ""`);
    return uuid;
  }

  #session(uuid: string): DriverSession {
    const id = this.#uuid('session_uuid', uuid);
    const entry = this.#sessions.get(id);
    if (!entry) {
      throw new DriverError(
        'NOT_FOUND',
        `session_uuid: no open session "${id}" (call start_session first; open: ${this.#sessions.size})`,
      );
    }
    return entry.session;
  }

  startSession(req: DriveSessionRequestWire): Record<string, never> {
    const id = this.#uuid('session_uuid', req.session_uuid);
    if (this.#sessions.has(id))
      throw new DriverError('ALREADY_EXISTS', `session_uuid: session "${id}" is already open`);
    const cams = req.rollout_spec?.vehicle?.available_cameras ?? [];
    const ids: string[] = [];
    cams.forEach((c, i) => {
      const lid = c.logical_id;
      const field = `rollout_spec.vehicle.available_cameras[${i}].logical_id`;
      if (!lid) throw invalid(`${field}: expected a camera name, got ""`);
      if (ids.includes(lid)) throw invalid(`${field}: expected distinct cameras, got "${lid}" twice`);
      ids.push(lid);
    });
    const wanted = this.#o.planner.cameras.names;
    const missing = wanted.filter((n) => !ids.includes(n));
    if (missing.length) {
      throw invalid(
        `rollout_spec.vehicle.available_cameras: expected the planner's cameras ${wanted.join(', ')}; ` +
          `missing ${missing.join(', ')} (got ${ids.join(', ') || 'none'})`,
      );
    }
    let seed: number;
    try {
      seed = this.#o.seed ?? Number(BigInt(req.random_seed) % 4294967296n);
    } catch {
      throw invalid(`random_seed: expected an unsigned 64-bit integer, got "${req.random_seed}"`);
    }
    const hooks = this.#o.sessionHooks?.(id, seed);
    const session = new DriverSession(id, ids, {
      engine: this.#o.engine,
      planner: { ...this.#o.planner, seed },
      watchdog: this.#o.watchdog,
      latency: this.#o.latency,
      watchdogBraking: this.#o.watchdogBraking,
      logger: this.#o.logger,
      ...(hooks?.onPublished ? { onPublished: hooks.onPublished } : {}),
      ...(hooks?.onResult ? { onResult: hooks.onResult } : {}),
    });
    this.#sessions.set(id, { session, ...(hooks ? { finish: hooks.finish } : {}) });
    const scene = req.debug_info?.scene_id ? ` scene ${req.debug_info.scene_id}` : '';
    this.#o.logger.info(`session ${id} started${scene}: cameras ${ids.join(', ')}, seed ${seed}`);
    return {};
  }

  async closeSession(req: DriveSessionCloseRequestWire): Promise<Record<string, never>> {
    const id = this.#uuid('session_uuid', req.session_uuid);
    const entry = this.#sessions.get(id);
    if (!entry) throw new DriverError('NOT_FOUND', `session_uuid: no open session "${id}"`);
    this.#sessions.delete(id);
    const summary = await entry.session.close();
    this.closed.push(summary);
    if (this.closed.length > 1000) this.closed.shift();
    this.#o.logger.info(describeSummary(summary));
    if (entry.finish) await entry.finish(summary);
    return {};
  }

  async submitImage(req: RolloutCameraImageWire): Promise<Record<string, never>> {
    const session = this.#session(req.session_uuid);
    const img = req.camera_image;
    if (!img) throw invalid('camera_image: expected a CameraImage, got none');
    const camera = session.cameraFor(img.logical_id);
    const frameEndUs = parseUs('camera_image.frame_end_us', img.frame_end_us);
    const bytes = img.image_bytes ?? Buffer.alloc(0);
    if (bytes.length > this.#o.maxImageBytes) {
      session.rejectImage('malformed');
      throw new DriverError(
        'RESOURCE_EXHAUSTED',
        `camera_image.image_bytes: expected at most ${this.#o.maxImageBytes} bytes, got ${bytes.length}`,
      );
    }
    if (camera === undefined) return {}; // a camera AR1 does not use: counted as camera_unused
    let prepared;
    try {
      prepared = await prepareImage('camera_image.image_bytes', bytes, {
        width: this.#o.engine.contract.imageWidth,
        height: this.#o.engine.contract.imageHeight,
      });
    } catch (e) {
      session.rejectImage('corrupt_image');
      throw e;
    }
    session.submitImage(camera, frameEndUs, prepared);
    return {};
  }

  submitEgomotion(req: RolloutEgoTrajectoryWire): Record<string, never> {
    const session = this.#session(req.session_uuid);
    session.submitEgomotion(egomotionPoses(req, session.firstEgomotion, this.#o.maxPosesPerRequest));
    return {};
  }

  /** AR1 takes no route command; the route is checked and otherwise ignored. */
  submitRoute(req: RouteRequestWire): Record<string, never> {
    this.#session(req.session_uuid);
    if (req.route) parseUs('route.timestamp_us', req.route.timestamp_us);
    return {};
  }

  /** Ground truth is not given to the planner (it would not have it on a vehicle). */
  submitGroundTruth(req: GroundTruthRequestWire): Record<string, never> {
    this.#session(req.session_uuid);
    if (req.ground_truth) parseUs('ground_truth.timestamp_us', req.ground_truth.timestamp_us);
    return {};
  }

  drive(req: DriveRequestWire): Promise<DriveResponseOut> {
    const session = this.#session(req.session_uuid);
    const now = parseUs('time_now_us', req.time_now_us);
    return session.drive(now);
  }

  getVersion(): VersionIdOut {
    return {
      version_id: `ar1-ros-driver-${this.#o.version} (${this.#o.engine.contract.bundleId})`,
      git_hash: 'unknown',
      grpc_api_version: { ...GRPC_API_VERSION },
    };
  }

  /** Closes every open session (server shutdown), logging each one's accounting. */
  async closeAll(): Promise<void> {
    for (const id of [...this.#sessions.keys()]) {
      try {
        await this.closeSession({ session_uuid: id });
      } catch (e) {
        this.#o.logger.error(`closing session ${id}: ${(e as Error).message}`);
      }
    }
  }
}
