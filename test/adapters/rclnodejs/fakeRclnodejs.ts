import { EventEmitter } from 'node:events';
import sinon from 'sinon';
import type { RclnodejsModule } from '../../../nodes/adapters/rclnodejs/loader.js';
import type { ProcessLike, TimerHost } from '../../../nodes/adapters/rclnodejs/signals.js';

/** A stand-in for the part of the rclnodejs API the adapter uses, recording every call. */
export class FakeQoS {
  constructor(
    readonly history: number,
    readonly depth: number,
    readonly reliability: number,
    readonly durability: number,
  ) {}
}
export class FakeParameter {
  constructor(
    readonly name: string,
    readonly type: number,
    readonly value: unknown,
  ) {}
}
export class FakeParameterDescriptor {
  constructor(
    readonly name: string,
    readonly type: number,
    readonly description: string,
    readonly readOnly: boolean,
  ) {}
}

export interface FakeSubscription {
  type: string;
  topic: string;
  options: { qos: FakeQoS; enableTypedArray: boolean };
  callback: (m: unknown) => void;
}
export interface FakeTimer {
  periodNs: bigint;
  callback: () => void;
  canceled: boolean;
  cancel: sinon.SinonSpy;
  reset: sinon.SinonSpy;
  changeTimerPeriod: sinon.SinonSpy;
}

export class FakeNode {
  static last: FakeNode | undefined;
  readonly subscriptions: FakeSubscription[] = [];
  readonly publishers: Array<{ type: string; topic: string; options: { qos: FakeQoS }; publish: sinon.SinonStub }> = [];
  readonly timers: FakeTimer[] = [];
  readonly logger = { debug: sinon.spy(), info: sinon.spy(), warn: sinon.spy(), error: sinon.spy() };
  readonly declared = new Map<
    string,
    { parameter: FakeParameter; descriptor: FakeParameterDescriptor; ignoreOverride: boolean }
  >();
  nowNs = 0n;
  readonly getLogger = sinon.spy(() => this.logger);
  readonly spin = sinon.spy();
  readonly destroy = sinon.spy();
  readonly destroySubscription = sinon.spy((s: FakeSubscription) => {
    this.subscriptions.splice(this.subscriptions.indexOf(s), 1);
  });
  readonly destroyTimer = sinon.spy((t: FakeTimer) => {
    this.timers.splice(this.timers.indexOf(t), 1);
  });

  constructor(
    readonly nodeName: string,
    readonly nodeNamespace: string,
  ) {
    FakeNode.last = this;
  }

  now() {
    return { nanoseconds: this.nowNs };
  }

  createSubscription(
    type: string,
    topic: string,
    options: FakeSubscription['options'],
    callback: (m: unknown) => void,
  ) {
    const s = { type, topic, options, callback };
    this.subscriptions.push(s);
    return s;
  }

  createPublisher(type: string, topic: string, options: { qos: FakeQoS }) {
    const p = { type, topic, options, publish: sinon.stub() };
    this.publishers.push(p);
    return p;
  }

  createTimer(periodNs: bigint, callback: () => void) {
    const t: FakeTimer = {
      periodNs,
      callback,
      canceled: false,
      cancel: sinon.spy(() => {
        t.canceled = true;
      }),
      reset: sinon.spy(() => {
        t.canceled = false;
      }),
      changeTimerPeriod: sinon.spy((p: bigint) => {
        t.periodNs = p;
      }),
    };
    this.timers.push(t);
    return t;
  }

  hasParameter(name: string) {
    return name === 'use_sim_time' || this.declared.has(name);
  }

  declareParameter(parameter: FakeParameter, descriptor: FakeParameterDescriptor, ignoreOverride: boolean) {
    this.declared.set(parameter.name, { parameter, descriptor, ignoreOverride });
    return parameter;
  }
}

export function fakeRclnodejs() {
  let down = false;
  const rcl = {
    init: sinon.stub().resolves(),
    removeSignalHandlers: sinon.spy(),
    shutdown: sinon.spy(() => {
      down = true;
    }),
    isShutdown: () => down,
    Node: FakeNode,
    QoS: FakeQoS,
    Parameter: FakeParameter,
    ParameterDescriptor: FakeParameterDescriptor,
  };
  const load = sinon.spy(async () => rcl as unknown as RclnodejsModule);
  return { rcl, load };
}

/** process: signals are emitted by the test; exit is recorded. */
export class FakeProcess extends EventEmitter implements ProcessLike {
  readonly exit = sinon.spy((_code?: number) => undefined);
  readonly kill = sinon.spy((_pid: number, _signal: NodeJS.Signals) => true);
  readonly pid = 4242;
}

/** Timers the test fires by hand (the shutdown deadline). */
export class FakeTimers implements TimerHost {
  readonly pending = new Map<number, () => void>();
  #next = 1;
  setTimeout(fire: () => void, _ms: number) {
    const id = this.#next++;
    this.pending.set(id, fire);
    return { id, unref: () => undefined };
  }
  clearTimeout(handle: unknown) {
    this.pending.delete((handle as { id: number }).id);
  }
  fireAll() {
    for (const [id, fire] of [...this.pending]) {
      this.pending.delete(id);
      fire();
    }
  }
}

/** Lets pending promise callbacks run. */
export const settle = () => new Promise<void>((r) => setImmediate(r));
