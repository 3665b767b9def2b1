import { Observable, Subject, config, share } from 'rxjs';
import type { Clock } from '../../core/clock.js';
import type { Logger } from '../../core/logger.js';
import type { MessageOf, MessageTypeName } from '../../core/msgs.js';
import type { QosProfile } from '../../core/qos.js';
import { nanosToSeconds } from '../../core/time.js';
import type { Publisher, RosNode } from '../../core/transport.js';
import { errorFirstLine, errorMessage } from '../../core/errors.js';
import { parameterOverridesFromArgs } from '../../core/params/fromArgs.js';
import { parseRosArgs } from '../../core/params/rosArgs.js';
import type { ParameterOverrides } from '../../core/params/overrides.js';
import { loadRclnodejs, type RclModuleLoader, type RclnodejsModule, type RclNode } from './loader.js';
import { PARAMETER_TYPE, flattenParameters, parameterSpec, toRclParameterValue } from './parameters.js';
import { withFreshTypedArrays } from './publish.js';
import { toRclQos } from './rclQos.js';
import { RosTimerScheduler, type StartTimer } from './scheduler.js';
import { exitOnSignals, type ProcessLike, type TimerHost } from './signals.js';
export interface RclNodeOptions {
  /** Default node name; `--ros-args -r __node:=…` overrides it (as rcl does). */
  name: string;
  /** Default namespace; `-r __ns:=…` overrides it. */
  namespace?: string;
  /** Arguments including `--ros-args …`: given whole to rcl, and to our own parameter loader. */
  argv: string[];
}

/** What createRclNode touches outside itself; tests replace each with a fake. */
export interface RclDependencies {
  load?: RclModuleLoader;
  process?: ProcessLike;
  timers?: TimerHost;
  immediate?: (fire: () => void) => () => void;
  /** Steady (monotonic) time [ms]; default performance.now(). */
  steadyNowMs?: () => number;
  /** A periodic timer on steady time; default setInterval (libuv's timers run on the monotonic clock). */
  steadyInterval?: StartTimer;
}

const defaultSteadyInterval: StartTimer = (periodMs, fire) => {
  const h = setInterval(fire, periodMs);
  return () => clearInterval(h);
};

const defaultImmediate = (fire: () => void) => {
  const h = setImmediate(fire);
  return () => clearImmediate(h);
};

type RclTimer = ReturnType<RclNode['createTimer']>;

/**
 * ROS timers for the scheduler, reused. rclnodejs re-synchronises every handle of the node with its executor thread
 * on each timer create and destroy (measured: ~3 ms of main thread per destroy on 2 cores, 640 ms in 20 s of
 * planning, from a plan-timeout timer per plan). A released timer is cancelled and kept; the next delay takes it,
 * changes its period and resets it (which un-cancels it and restarts its period from now). The pool holds at most
 * as many timers as were ever pending at once. rclnodejs calls a timer only when rcl finds it ready, and a
 * cancelled one never is, so a released timer cannot fire into the next user's work.
 */
function rosTimerPool(rclNode: RclNode, contain: (what: string, fn: () => void) => void): StartTimer {
  interface Slot {
    timer: RclTimer;
    fire: () => void;
  }
  const idle: Slot[] = [];
  const noop = () => {};
  return (periodMs, fire) => {
    const periodNs = BigInt(Math.max(1, Math.round(periodMs * 1e6)));
    let slot = idle.pop();
    if (slot) {
      slot.fire = fire;
      slot.timer.changeTimerPeriod(periodNs);
      slot.timer.reset();
    } else {
      const s: Slot = { timer: undefined as unknown as RclTimer, fire };
      s.timer = rclNode.createTimer(periodNs, () => contain('timer', s.fire));
      slot = s;
    }
    const held = slot;
    return () => {
      held.fire = noop;
      held.timer.cancel();
      idle.push(held);
    };
  };
}

/**
 * Creates an rclnodejs-backed RosNode: init rcl with argv, our handlers for SIGINT and SIGTERM (rclnodejs's own
 * removed), parameters from the same --params-file/-p through the offline loader, and spins.
 */
export async function createRclNode(options: RclNodeOptions, deps: RclDependencies = {}): Promise<RclRosNode> {
  const args = parseRosArgs(options.argv); // bad --ros-args fail here, before rcl starts
  const name = args.nodeName ?? options.name;
  const namespace = args.namespace ?? options.namespace ?? '/';
  const parameterOverrides = parameterOverridesFromArgs(args, name, namespace);
  const rcl = await (deps.load ?? loadRclnodejs)();
  rcl.removeSignalHandlers(); // its SIGINT handler only shuts rcl down; ours (below) also publishes and exits
  await rcl.init(undefined, options.argv);
  const node = new rcl.Node(name, namespace === '/' ? '' : namespace);
  const ros = new RclRosNode(rcl, node, name, namespace, parameterOverrides, deps);
  node.spin();
  return ros;
}

/** The seam over one rclnodejs node. */
export class RclRosNode implements RosNode {
  readonly clock: Clock;
  readonly scheduler: RosTimerScheduler;
  /** Monotonic time [s] since an arbitrary origin: never steps, whatever the system clock or /clock do. */
  readonly steadyClock: Clock;
  /** Timers on steady time (the watchdog's control loop keeps running when /clock stops). */
  readonly steadyScheduler: RosTimerScheduler;
  readonly logger: Logger;
  readonly #shutdown = new Subject<void>();
  readonly shutdown$: Observable<void> = this.#shutdown.asObservable();
  readonly #hooks: Array<() => Promise<void> | void> = [];
  readonly #exitChecks: Array<() => string | undefined> = [];
  readonly #removeSignalHandlers: () => void;
  readonly #restoreRxConfig: () => void;
  #down = false;
  #stopping: Promise<void> | undefined;

  constructor(
    private readonly rcl: RclnodejsModule,
    readonly rclNode: RclNode,
    readonly name: string,
    readonly namespace: string,
    readonly parameterOverrides: ParameterOverrides,
    deps: RclDependencies = {},
  ) {
    const log = rclNode.getLogger(); // once: rclnodejs 2.2 getLogger() parses a stack trace per call
    this.logger = {
      debug: (m) => void log.debug(m),
      info: (m) => void log.info(m),
      warn: (m) => void log.warn(m),
      error: (m) => void log.error(m),
    };
    this.clock = { now: () => nanosToSeconds(rclNode.now().nanoseconds) };
    this.scheduler = new RosTimerScheduler(
      () => this.clock.now() * 1000,
      rosTimerPool(rclNode, (what, fn) => this.#contain(what, fn)),
      deps.immediate ?? defaultImmediate,
      (e) => this.logger.error(`scheduled work threw: ${errorMessage(e)} [node=${name}]`),
    );
    const steadyNowMs = deps.steadyNowMs ?? (() => performance.now());
    this.steadyClock = { now: () => steadyNowMs() / 1000 };
    const steadyInterval = deps.steadyInterval ?? defaultSteadyInterval;
    this.steadyScheduler = new RosTimerScheduler(
      steadyNowMs,
      (periodMs, fire) => steadyInterval(periodMs, () => this.#contain('steady timer', fire)),
      deps.immediate ?? defaultImmediate,
      (e) => this.logger.error(`scheduled work threw: ${errorMessage(e)} [node=${name}]`),
    );
    // An error thrown by a node's own subscribe() handler is caught by RxJS and re-thrown on a timer, which would
    // kill the process; on a vehicle it is logged instead (the subscription keeps delivering).
    const previous = config.onUnhandledError;
    const onUnhandledError = (e: unknown) =>
      this.logger.error(`unhandled error in node code: ${errorMessage(e)} [node=${name}]`);
    config.onUnhandledError = onUnhandledError;
    this.#restoreRxConfig = () => {
      if (config.onUnhandledError === onUnhandledError) config.onUnhandledError = previous;
    };
    this.#removeSignalHandlers = exitOnSignals(
      deps.process ?? process,
      () => this.shutdown(),
      (m) => this.logger.warn(m),
      deps.timers,
      undefined,
      {
        blockedBy: () => {
          for (const check of this.#exitChecks) {
            const why = check();
            if (why !== undefined) return why;
          }
          return undefined;
        },
        beforeKill: () => this.#leaveGraph(),
      },
    );
  }

  subscribe<T extends MessageTypeName>(type: T, topic: string, qos: QosProfile): Observable<MessageOf<T>> {
    return new Observable<MessageOf<T>>((subscriber) => {
      const options = { qos: toRclQos(qos, this.rcl.QoS), enableTypedArray: true };
      const subscription = this.rclNode.createSubscription(type, topic, options, (message: unknown) => {
        this.#contain(`subscriber of ${topic}`, () => subscriber.next(message as MessageOf<T>));
      });
      return () =>
        this.#contain(`destroying the subscription to ${topic}`, () => this.rclNode.destroySubscription(subscription));
    }).pipe(share());
  }

  createPublisher<T extends MessageTypeName>(type: T, topic: string, qos: QosProfile): Publisher<MessageOf<T>> {
    const publisher = this.rclNode.createPublisher(type, topic, { qos: toRclQos(qos, this.rcl.QoS) });
    return {
      topic,
      publish: (message) => {
        if (this.#down) return;
        this.#contain(`publishing on ${topic}`, () => publisher.publish(withFreshTypedArrays(message) as never));
      },
    };
  }

  /**
   * Declares values as read-only ROS parameters so `ros2 param get` / `describe` show what the node runs with.
   * Nested keys become dotted names. With the node's JSON schema, each gets the schema's type (a "number" is
   * DOUBLE even when written 50.0), its description and, where the schema bounds it on both sides, a range; an
   * empty list gets its element type. A name rclnodejs already declared (use_sim_time) is left alone. Returns
   * what was skipped.
   */
  declareParameters(values: Readonly<Record<string, unknown>>, schema?: Readonly<Record<string, unknown>>): string[] {
    const skipped: string[] = [];
    for (const [name, value] of flattenParameters(values)) {
      if (this.rclNode.hasParameter(name)) continue;
      const spec = parameterSpec(schema, name);
      const p = toRclParameterValue(value, spec);
      if (typeof p === 'string') {
        skipped.push(`${name}: ${p}`);
        continue;
      }
      const type = p.type as unknown as ConstructorParameters<RclnodejsModule['Parameter']>[1];
      const range =
        spec?.minimum !== undefined && spec.maximum !== undefined
          ? p.type === PARAMETER_TYPE.double || p.type === PARAMETER_TYPE.doubleArray
            ? new this.rcl.FloatingPointRange(spec.minimum, spec.maximum, 0)
            : p.type === PARAMETER_TYPE.integer || p.type === PARAMETER_TYPE.integerArray
              ? new this.rcl.IntegerRange(BigInt(Math.ceil(spec.minimum)), BigInt(Math.floor(spec.maximum)), 0n)
              : undefined
          : undefined;
      const description = spec?.description ?? 'ar1-ros parameter';
      const descriptor = new this.rcl.ParameterDescriptor(
        name,
        type,
        `${description} (set at start-up, read-only)`,
        true,
        range,
      );
      // rclnodejs 2.2 never puts a range into the described message (it reads a field it does not set), so the
      // schema's bounds also go into additional_constraints, which it does send.
      const bounds = [
        spec?.minimum !== undefined ? `>= ${spec.minimum}` : '',
        spec?.maximum !== undefined ? `<= ${spec.maximum}` : '',
      ]
        .filter(Boolean)
        .join(', ');
      if (bounds) descriptor.additionalConstraints = bounds;
      this.rclNode.declareParameter(new this.rcl.Parameter(name, type, p.value), descriptor, true); // our loader's value wins
    }
    for (const s of skipped) this.logger.debug(`parameter not declared: ${s}`);
    return skipped;
  }

  /** Runs during shutdown, after shutdown$ emitted and before rcl shuts down (e.g. a node's stop()). */
  onShutdown(hook: () => Promise<void> | void): void {
    this.#hooks.push(hook);
  }

  /**
   * Registers a check that says why a plain process exit would block now (a worker thread inside native code, e.g.
   * an onnxruntime graph run), or undefined. When shutdown misses its deadline while a check says so, the process ends
   * itself with SIGKILL after leaving the ROS graph, instead of waiting for the native code.
   */
  addExitCheck(check: () => string | undefined): void {
    this.#exitChecks.push(check);
  }

  /** shutdown$ emits and completes, hooks run (in order), then the node is destroyed and rcl shut down. */
  shutdown(): Promise<void> {
    return (this.#stopping ??= this.#stop());
  }

  async #stop(): Promise<void> {
    this.#contain('shutdown$ subscriber', () => {
      this.#shutdown.next();
      this.#shutdown.complete();
    });
    let failed: string | undefined;
    for (const hook of this.#hooks) {
      try {
        await hook();
      } catch (e) {
        const line = errorFirstLine(e);
        failed ??= line;
        this.logger.error(`shutdown step failed: ${line} [node=${this.name}]`);
      }
    }
    this.#removeSignalHandlers();
    this.#restoreRxConfig();
    this.#leaveGraph();
    // The rest of shutdown still ran; the process then exits 1, not 0 (exitOnSignals).
    if (failed !== undefined) throw new Error(`a shutdown step failed: ${failed}`);
  }

  /** Destroys the node and shuts rcl down (once), so the DDS participant leaves the graph at once. */
  #leaveGraph(): void {
    if (this.#down) return;
    this.#down = true;
    this.#contain('destroying the node', () => this.rclNode.destroy());
    this.#contain('shutting rcl down', () => {
      if (!this.rcl.isShutdown()) this.rcl.shutdown();
    });
  }

  /** Runs fn; an exception is logged, never thrown into an rclnodejs (uv) callback. */
  #contain(what: string, fn: () => void): void {
    try {
      fn();
    } catch (e) {
      this.logger.error(`${what} threw: ${errorFirstLine(e)} [node=${this.name}]`);
    }
  }
}
