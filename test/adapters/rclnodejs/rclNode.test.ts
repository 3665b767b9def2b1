import { expect } from 'chai';
import { interval, take, timer, toArray, firstValueFrom, type Subscription } from 'rxjs';
import { createRclNode, type RclRosNode } from '../../../nodes/adapters/rclnodejs/index.js';
import { ParameterError } from '../../../nodes/core/params/index.js';
import { QOS_COMMAND, QOS_LATCHED, QOS_SENSOR } from '../../../nodes/core/qos.js';
import type { UnicycleCommand } from '../../../nodes/core/msgs.js';
import { tempFiles } from '../../core/params/fixtures.js';
import { FakeNode, FakeProcess, FakeQoS, FakeTimers, fakeRclnodejs, settle } from './fakeRclnodejs.js';

const command = (acceleration: number): UnicycleCommand => ({
  header: { stamp: { sec: 0, nanosec: 0 }, frame_id: 'rig' },
  acceleration,
  curvature: 0,
  speed: 0,
  source: 0,
});

async function start(argv: string[] = ['--ros-args'], name = 'ar1_watchdog') {
  const { rcl, load } = fakeRclnodejs();
  const proc = new FakeProcess();
  const timers = new FakeTimers();
  const immediates: Array<() => void> = [];
  const ros = await createRclNode(
    { name, argv },
    {
      load,
      process: proc,
      timers,
      immediate: (fire) => {
        immediates.push(fire);
        return () => immediates.splice(immediates.indexOf(fire), 1);
      },
    },
  );
  return { ros, rcl, load, proc, timers, immediates, node: FakeNode.last! };
}

describe('adapters/rclnodejs: createRclNode against a fake rclnodejs', () => {
  let handles: RclRosNode[] = [];
  afterEach(async () => {
    for (const h of handles) await h.shutdown();
    handles = [];
  });
  const track = async (argv?: string[], name?: string) => {
    const s = await start(argv, name);
    handles.push(s.ros);
    return s;
  };

  describe('start-up', () => {
    it('loads rclnodejs through the loader, removes its SIGINT handler, inits with argv, creates and spins the node', async () => {
      const argv = ['--ros-args', '-p', 'rate_hz:=20'];
      const { rcl, load, node, ros } = await track(argv);
      expect(load.calledOnce).to.equal(true);
      expect(rcl.removeSignalHandlers.calledBefore(rcl.init)).to.equal(true);
      expect(rcl.init.firstCall.args).to.deep.equal([undefined, argv]);
      expect([node.nodeName, node.nodeNamespace]).to.deep.equal(['ar1_watchdog', '']);
      expect(node.spin.calledOnce).to.equal(true);
      expect(ros.name).to.equal('ar1_watchdog');
      expect(ros.namespace).to.equal('/');
    });

    it('-r __node / __ns rename the node; parameters are read for the new name from the same files and -p', async () => {
      const f = tempFiles({
        'w.yaml':
          '/**:\n  ros__parameters:\n    a: 1\nwd2:\n  ros__parameters:\n    b: 2\nar1_watchdog:\n  ros__parameters:\n    c: 3\n',
      });
      const { node, ros } = await track([
        '--ros-args',
        '-r',
        '__node:=wd2',
        '-r',
        '__ns:=/car1',
        '--params-file',
        f['w.yaml']!,
        '-p',
        'd:=x',
      ]);
      expect([node.nodeName, node.nodeNamespace]).to.deep.equal(['wd2', '/car1']);
      expect([ros.name, ros.namespace]).to.deep.equal(['wd2', '/car1']);
      // A file's source keeps what came from /** apart from what came from the node's own section.
      expect(ros.parameterOverrides.sources).to.deep.equal([
        { origin: f['w.yaml'], values: { a: 1, b: 2 }, wildcard: { a: 1 }, exact: { b: 2 } },
        { origin: 'command line (-p)', values: { d: 'x' } },
      ]);
    });

    it('bad --ros-args or a missing params file fail before rclnodejs is even loaded', async () => {
      const { load } = fakeRclnodejs();
      let err: unknown;
      try {
        await createRclNode({ name: 'n', argv: ['--ros-args', '--bogus'] }, { load, process: new FakeProcess() });
      } catch (e) {
        err = e;
      }
      expect(err).to.be.instanceOf(ParameterError);
      try {
        await createRclNode(
          { name: 'n', argv: ['--ros-args', '--params-file', '/no/such.yaml'] },
          { load, process: new FakeProcess() },
        );
      } catch (e) {
        err = e;
      }
      expect((err as Error).message).to.match(/^\/no\/such\.yaml: cannot read parameter file/);
      expect(load.called).to.equal(false);
    });

    it('the logger is taken once and forwards each level', async () => {
      const { ros, node } = await track();
      ros.logger.info('i');
      ros.logger.warn('w');
      ros.logger.error('e');
      ros.logger.debug('d');
      expect(node.getLogger.callCount).to.equal(1);
      expect(node.logger.info.calledWith('i')).to.equal(true);
      expect(node.logger.warn.calledWith('w')).to.equal(true);
      expect(node.logger.error.calledWith('e')).to.equal(true);
      expect(node.logger.debug.calledWith('d')).to.equal(true);
    });

    it('clock is the node ROS clock in seconds; scheduler.now() the same in ms', async () => {
      const { ros, node } = await track();
      node.nowNs = 1_700_000_000_250_000_000n;
      expect(ros.clock.now()).to.equal(1_700_000_000.25);
      expect(ros.scheduler.now()).to.equal(1_700_000_000_250);
    });
  });

  describe('QoS mapping', () => {
    const cases = [
      ['sensor (best effort, volatile, depth 5)', QOS_SENSOR, new FakeQoS(1, 5, 2, 2)],
      ['command (reliable, volatile, depth 10)', QOS_COMMAND, new FakeQoS(1, 10, 1, 2)],
      ['latched (reliable, transient local, depth 1)', QOS_LATCHED, new FakeQoS(1, 1, 1, 1)],
    ] as const;
    for (const [what, profile, expected] of cases) {
      it(`${what} → KEEP_LAST rclnodejs QoS, for subscriptions and publishers`, async () => {
        const { ros, node } = await track();
        const sub = ros.subscribe('nav_msgs/msg/Odometry', '/odom', profile).subscribe();
        ros.createPublisher('ar1_msgs/msg/UnicycleCommand', '/cmd', profile);
        expect(node.subscriptions[0]!.options.qos).to.deep.equal(expected);
        expect(node.subscriptions[0]!.options.enableTypedArray).to.equal(true);
        expect(node.publishers[0]!.options.qos).to.deep.equal(expected);
        sub.unsubscribe();
      });
    }
    it('a depth below 1 is refused when the subscription is made', async () => {
      const { ros } = await track();
      expect(() => ros.createPublisher('std_msgs/msg/String', '/x', { ...QOS_COMMAND, depth: 0 })).to.throw(
        RangeError,
        /QoS depth: expected an integer >= 1, got 0/,
      );
    });
  });

  describe('subscribe', () => {
    it('creates one rclnodejs subscription on first subscribe, shares it, and destroys it after the last unsubscribe', async () => {
      const { ros, node } = await track();
      const odom$ = ros.subscribe('std_msgs/msg/String', '/chatter', QOS_COMMAND);
      expect(node.subscriptions).to.have.length(0);
      const a: string[] = [];
      const b: string[] = [];
      const s1 = odom$.subscribe((m) => a.push(m.data));
      const s2 = odom$.subscribe((m) => b.push(m.data));
      expect(node.subscriptions).to.have.length(1);
      expect(node.subscriptions[0]!).to.include({ type: 'std_msgs/msg/String', topic: '/chatter' });
      node.subscriptions[0]!.callback({ data: 'hello' });
      expect(a).to.deep.equal(['hello']);
      expect(b).to.deep.equal(['hello']);
      s1.unsubscribe();
      expect(node.destroySubscription.called).to.equal(false);
      s2.unsubscribe();
      expect(node.destroySubscription.calledOnce).to.equal(true);
      expect(node.subscriptions).to.have.length(0);
    });

    it('an exception in node code never escapes into the rclnodejs callback; it is logged with the topic', async () => {
      const { ros, node } = await track();
      const seen: string[] = [];
      const sub = ros.subscribe('std_msgs/msg/String', '/chatter', QOS_COMMAND).subscribe((m) => {
        if (m.data === 'bad') throw new Error('cannot handle bad');
        seen.push(m.data);
      });
      const cb = node.subscriptions[0]!.callback;
      expect(() => cb({ data: 'bad' })).to.not.throw();
      cb({ data: 'good' });
      await new Promise((r) => setTimeout(r, 1)); // RxJS reports a handler's error on a timer
      expect(node.logger.error.firstCall.args[0]).to.match(
        /unhandled error in node code: cannot handle bad \[node=ar1_watchdog\]/,
      );
      expect(seen).to.deep.equal(['good']); // still subscribed
      sub.unsubscribe();
    });
  });

  describe('publish', () => {
    it('publishes messages; typed arrays over a larger buffer are copied to a fresh Uint8Array first', async () => {
      const { ros, node } = await track();
      const pub = ros.createPublisher('sensor_msgs/msg/CompressedImage', '/img', QOS_SENSOR);
      const parent = new Uint8Array([9, 9, 1, 2, 3, 9]);
      const msg = {
        header: { stamp: { sec: 1, nanosec: 0 }, frame_id: 'cam' },
        format: 'jpeg',
        data: parent.subarray(2, 5),
      };
      pub.publish(msg);
      const sent = node.publishers[0]!.publish.firstCall.args[0] as typeof msg;
      expect(sent.data).to.not.equal(msg.data);
      expect(sent.data.byteOffset).to.equal(0);
      expect(sent.data.buffer.byteLength).to.equal(3);
      expect([...sent.data]).to.deep.equal([1, 2, 3]);
      expect(msg.data.byteOffset).to.equal(2); // the caller's message is untouched
      const own = new Uint8Array([4, 5]);
      pub.publish({ ...msg, data: own });
      expect((node.publishers[0]!.publish.secondCall.args[0] as typeof msg).data).to.equal(own); // no needless copy
    });

    it('a failing publish is logged, not thrown at the node; after shutdown nothing is published', async () => {
      const { ros, node } = await track();
      const pub = ros.createPublisher('ar1_msgs/msg/UnicycleCommand', '/vehicle/unicycle_command', QOS_COMMAND);
      node.publishers[0]!.publish.onFirstCall().throws(new Error('rmw: publisher invalid'));
      expect(() => pub.publish(command(1))).to.not.throw();
      expect(node.logger.error.firstCall.args[0]).to.match(
        /publishing on \/vehicle\/unicycle_command threw: rmw: publisher invalid/,
      );
      await ros.shutdown();
      pub.publish(command(2));
      expect(node.publishers[0]!.publish.callCount).to.equal(1);
    });
  });

  describe('scheduler: RxJS timers on rclnodejs timers (ROS clock, sim time aware)', () => {
    it('timer(ms) starts one ROS timer with that period in ns, emits when it fires, then cancels it (kept for reuse)', async () => {
      const { ros, node } = await track();
      const got: number[] = [];
      timer(250, ros.scheduler).subscribe((v) => got.push(v));
      expect(node.timers.map((t) => t.periodNs)).to.deep.equal([250_000_000n]);
      const t = node.timers[0]!;
      node.nowNs = 250_000_000n;
      t.callback();
      expect(got).to.deep.equal([0]);
      expect(t.cancel.calledOnce).to.equal(true);
      expect(t.canceled).to.equal(true);
      expect(node.destroyTimer.called, 'never destroyed: rclnodejs re-syncs every handle on destroy').to.equal(false);
    });

    it('the next delay reuses a released ROS timer: new period, reset, no create or destroy', async () => {
      const { ros, node } = await track();
      const got: string[] = [];
      timer(100, ros.scheduler).subscribe(() => got.push('a'));
      const t = node.timers[0]!;
      node.nowNs = 100_000_000n;
      t.callback();
      timer(40, ros.scheduler).subscribe(() => got.push('b'));
      expect(node.timers).to.deep.equal([t]);
      expect(t.changeTimerPeriod.lastCall.args).to.deep.equal([40_000_000n]);
      expect(t.reset.calledOnce).to.equal(true);
      expect(t.canceled).to.equal(false);
      expect(got).to.deep.equal(['a']);
      t.callback();
      expect(got).to.deep.equal(['a', 'b']);
      timer(10, ros.scheduler).subscribe(() => got.push('c'));
      timer(10, ros.scheduler).subscribe(() => got.push('d'));
      expect(node.timers, 'a second pending delay needs a second timer').to.have.length(2);
    });

    it('interval(20) keeps a single periodic ROS timer across periods; unsubscribe cancels it', async () => {
      const { ros, node } = await track();
      const got: number[] = [];
      const sub: Subscription = interval(20, ros.scheduler).subscribe((v) => got.push(v));
      const t = node.timers[0]!;
      for (let i = 0; i < 5; i++) {
        node.nowNs += 20_000_000n;
        t.callback();
      }
      expect(got).to.deep.equal([0, 1, 2, 3, 4]);
      expect(node.timers).to.deep.equal([t]);
      sub.unsubscribe();
      expect(t.cancel.calledOnce).to.equal(true);
      t.callback();
      expect(got, "a cancelled timer's late call does nothing").to.have.length(5);
    });

    it('a zero delay runs on the next event-loop turn, not on a ROS timer', async () => {
      const { ros, node, immediates } = await track();
      const done = firstValueFrom(timer(0, ros.scheduler).pipe(take(1), toArray()));
      expect(node.timers).to.have.length(0);
      expect(immediates).to.have.length(1);
      immediates[0]!();
      expect(await done).to.deep.equal([0]);
    });

    it('scheduled work that throws is logged and stops only that action', async () => {
      const { ros, node } = await track();
      ros.scheduler.schedule(() => {
        throw new Error('boom');
      }, 10);
      const t = node.timers[0]!;
      node.nowNs = 10_000_000n;
      expect(() => t.callback()).to.not.throw();
      expect(node.logger.error.firstCall.args[0]).to.match(/scheduled work threw: boom/);
      expect(t.canceled).to.equal(true);
    });
  });

  describe('parameters', () => {
    it('declares loaded values read-only with ROS types: nested keys dotted, integers as bigint, lists typed', async () => {
      const { ros, node } = await track();
      const skipped = ros.declareParameters({
        bundle_dir: '/m',
        rate_hz: 50,
        max_plan_age_s: 0.5,
        verbose: false,
        use_sim_time: true,
        limits: { reference_speed_mps: [1.5, 10, 30], names: ['a', 'b'], none: [] },
      });
      const got = Object.fromEntries([...node.declared].map(([k, v]) => [k, [v.parameter.type, v.parameter.value]]));
      expect(got).to.deep.equal({
        bundle_dir: [4, '/m'],
        rate_hz: [2, 50n],
        max_plan_age_s: [3, 0.5],
        verbose: [1, false],
        'limits.reference_speed_mps': [8, [1.5, 10, 30]],
        'limits.names': [9, ['a', 'b']],
      });
      for (const { descriptor, ignoreOverride } of node.declared.values()) {
        expect(descriptor.readOnly).to.equal(true);
        expect(ignoreOverride).to.equal(true);
      }
      expect(skipped).to.deep.equal(['limits.none: an empty list has no ROS parameter type']);
    });
  });

  describe('shutdown and signals', () => {
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      it(`${signal}: shutdown$ emits (a final command goes out), hooks run, then rcl shuts down and the process exits 0`, async () => {
        const { ros, rcl, node, proc } = await start();
        const pub = ros.createPublisher('ar1_msgs/msg/UnicycleCommand', '/vehicle/unicycle_command', QOS_COMMAND);
        const order: string[] = [];
        ros.shutdown$.subscribe({
          next: () => {
            pub.publish(command(-2.5));
            order.push('shutdown$');
          },
          complete: () => order.push('complete'),
        });
        ros.onShutdown(async () => {
          await settle();
          order.push('hook');
        });
        proc.emit(signal);
        await settle();
        await settle();
        expect(order).to.deep.equal(['shutdown$', 'complete', 'hook']);
        expect((node.publishers[0]!.publish.firstCall.args[0] as UnicycleCommand).acceleration).to.equal(-2.5);
        expect(node.publishers[0]!.publish.calledBefore(rcl.shutdown)).to.equal(true);
        expect(node.destroy.calledOnce).to.equal(true);
        expect(rcl.shutdown.calledOnce).to.equal(true);
        expect(proc.exit.calledOnceWith(0)).to.equal(true);
        expect(proc.listenerCount('SIGINT') + proc.listenerCount('SIGTERM')).to.equal(0);
      });
    }

    it('installs exactly one handler for each of SIGINT and SIGTERM', async () => {
      const { proc } = await track();
      expect(proc.listenerCount('SIGINT')).to.equal(1);
      expect(proc.listenerCount('SIGTERM')).to.equal(1);
    });

    it('a shutdown that hangs past the 2 s deadline exits 1; a second signal exits 1 at once', async () => {
      const { ros, proc, timers } = await start();
      let release!: () => void;
      ros.onShutdown(
        () =>
          new Promise<void>((r) => {
            release = r;
          }),
      ); // does not finish in time
      proc.emit('SIGINT');
      await settle();
      expect(proc.exit.called).to.equal(false);
      expect(timers.pending.size).to.equal(1);
      proc.emit('SIGTERM');
      expect(proc.exit.calledOnceWith(1)).to.equal(true);
      timers.fireAll();
      expect(proc.exit.secondCall.args).to.deep.equal([1]);
      release();
      await ros.shutdown();
    });

    it('past the deadline while an exit check names native work: leaves the graph, then ends itself with SIGKILL (a plain exit would wait for the run)', async () => {
      const { ros, rcl, node, proc, timers } = await start();
      let busy: string | undefined = 'the inference worker is running 1 plan';
      ros.addExitCheck(() => undefined);
      ros.addExitCheck(() => busy);
      let release!: () => void;
      ros.onShutdown(() => new Promise<void>((r) => (release = r))); // engine.close() waiting for the run
      proc.emit('SIGINT');
      await settle();
      timers.fireAll();
      expect(proc.exit.called, 'no plain exit').to.equal(false);
      expect(proc.kill.calledOnceWith(4242, 'SIGKILL')).to.equal(true);
      expect(node.destroy.calledBefore(proc.kill)).to.equal(true);
      expect(rcl.shutdown.calledBefore(proc.kill)).to.equal(true);
      const warned = node.logger.warn.args.map((a) => String(a[0]));
      expect(warned.at(-1)).to.equal(
        'shutdown did not finish within 2000 ms: the inference worker is running 1 plan; a plain exit would wait for ' +
          'that native work, then abort: ending the process with SIGKILL',
      );
      // A second signal while it still runs gives up the same way; once the work is done a plain exit is used.
      proc.emit('SIGTERM');
      expect(proc.kill.callCount).to.equal(2);
      busy = undefined;
      proc.emit('SIGTERM');
      expect(proc.exit.calledOnceWith(1)).to.equal(true);
      release();
      await ros.shutdown();
      expect(node.destroy.calledOnce, 'the graph is left once').to.equal(true);
      expect(rcl.shutdown.calledOnce).to.equal(true);
    });

    it('an exit check that throws counts as native work: SIGKILL at the deadline, the failure named', async () => {
      const { ros, proc, timers, node } = await start();
      ros.addExitCheck(() => {
        throw new Error('engine gone\n    at a stack line');
      });
      let release!: () => void;
      ros.onShutdown(() => new Promise<void>((r) => (release = r)));
      proc.emit('SIGTERM');
      await settle();
      timers.fireAll();
      expect(proc.exit.called).to.equal(false);
      expect(proc.kill.calledOnceWith(4242, 'SIGKILL')).to.equal(true);
      expect(String(node.logger.warn.lastCall.args[0])).to.match(
        /^shutdown did not finish within 2000 ms: the exit check failed \(engine gone\); a plain exit would wait/,
      );
      release();
      await ros.shutdown();
    });

    it('leaving the graph fails before SIGKILL: logged, and the process still ends with SIGKILL', async () => {
      const { ros, rcl, proc, timers, node } = await start();
      ros.addExitCheck(() => 'the inference worker is running 1 plan');
      const shutdownRcl = rcl.shutdown;
      (rcl as { shutdown: () => void }).shutdown = () => {
        throw new Error('rcl context invalid');
      };
      let release!: () => void;
      ros.onShutdown(() => new Promise<void>((r) => (release = r)));
      proc.emit('SIGINT');
      await settle();
      timers.fireAll();
      expect(proc.kill.calledOnceWith(4242, 'SIGKILL')).to.equal(true);
      expect(node.logger.error.args.map((a) => String(a[0]))).to.include(
        'shutting rcl down threw: rcl context invalid [node=ar1_watchdog]',
      );
      (rcl as { shutdown: () => void }).shutdown = shutdownRcl;
      release();
      await ros.shutdown();
    });

    it('a clean shutdown while a worker thread is still in native code (a bundle loading): the exit waits for it, and SIGKILL at the deadline if it never ends', async () => {
      for (const loadEnds of [true, false]) {
        const { ros, proc, timers } = await start();
        let loading: string | undefined = 'the inference worker is loading the bundle';
        ros.addExitCheck(() => loading);
        proc.emit('SIGTERM');
        await settle();
        await settle();
        expect(proc.exit.called, 'no exit into the load').to.equal(false);
        const deadline = [...timers.pending.keys()][0]!;
        const firePolls = () => {
          for (const [id, fire] of [...timers.pending])
            if (id !== deadline) {
              timers.pending.delete(id);
              fire();
            }
        };
        // The polls run; the load is still going.
        firePolls();
        expect(proc.exit.called).to.equal(false);
        if (loadEnds) {
          loading = undefined;
          firePolls();
          expect(proc.exit.calledOnceWith(0), 'exit 0 once the load is over').to.equal(true);
          expect(timers.pending.has(deadline), 'the deadline is cleared').to.equal(false);
          expect(proc.kill.called).to.equal(false);
        } else {
          timers.fireAll();
          expect(proc.kill.calledOnceWith(4242, 'SIGKILL')).to.equal(true);
          expect(proc.exit.called).to.equal(false);
          timers.fireAll(); // a poll left over does nothing once the process was ended
          expect(proc.exit.called).to.equal(false);
        }
      }
    });

    it('a failing hook is logged in one line, the rest of shutdown still happens, and the process exits 1', async () => {
      const { ros, rcl, node, proc } = await start();
      ros.onShutdown(() => {
        throw new Error('stop failed\n    at a stack line');
      });
      proc.emit('SIGTERM');
      await settle();
      await settle();
      expect(node.logger.error.firstCall.args[0]).to.equal('shutdown step failed: stop failed [node=ar1_watchdog]');
      expect(rcl.shutdown.calledOnce).to.equal(true);
      expect(proc.exit.calledOnceWith(1)).to.equal(true);
      expect(node.logger.warn.lastCall.args[0]).to.equal(
        'shutdown failed: a shutdown step failed: stop failed: exiting',
      );
    });

    it('shutdown() is idempotent', async () => {
      const { ros, rcl } = await start();
      await Promise.all([ros.shutdown(), ros.shutdown()]);
      await ros.shutdown();
      expect(rcl.shutdown.calledOnce).to.equal(true);
    });
  });
});
