import { expect } from 'chai';
import { timer, VirtualAction, VirtualTimeScheduler, type SchedulerAction, type SchedulerLike } from 'rxjs';
import { SteppingScheduler, WorkTracker } from '../../../nodes/adapters/inprocess/virtualScheduler.js';
import { InProcessBus } from '../../../nodes/adapters/inprocess/bus.js';
import { InProcessNode } from '../../../nodes/adapters/inprocess/inProcessNode.js';
import { QOS_COMMAND } from '../../../nodes/core/qos.js';

describe('adapters/inprocess', () => {
  it('advances virtual time in order and stops at the target', async () => {
    const s = new SteppingScheduler(1000);
    const seen: number[] = [];
    timer(50, s).subscribe(() => seen.push(s.now()));
    timer(20, s).subscribe(() => seen.push(s.now()));
    await s.advanceTo(1030);
    expect(seen).to.deep.equal([1020]);
    expect(s.now()).to.equal(1030);
    await s.advanceBy(100);
    expect(seen).to.deep.equal([1020, 1050]);
  });

  it('waits for tracked work before moving time', async () => {
    const s = new SteppingScheduler(0);
    const tracker = new WorkTracker();
    const log: string[] = [];
    timer(10, s).subscribe(() => {
      log.push(`start@${s.now()}`);
      void tracker.track(new Promise((r) => setTimeout(r, 5))).then(() => {
        log.push(`done@${s.now()}`);
        timer(100, s).subscribe(() => log.push(`publish@${s.now()}`));
      });
    });
    timer(20, s).subscribe(() => log.push(`next@${s.now()}`));
    await s.advanceTo(200, () => tracker.idle());
    expect(log).to.deep.equal(['start@10', 'done@10', 'next@20', 'publish@110']);
  });

  it('lets promise chains set off by a scheduler action finish at that instant when told to expect them', async () => {
    const s = new SteppingScheduler(0);
    const tracker = new WorkTracker();
    const seen: number[] = [];
    const viaPromise = () =>
      new Promise<void>((resolve) =>
        s.schedule(() => {
          tracker.expectCallbacks();
          resolve();
        }, 100),
      );
    const chain = async () => {
      await viaPromise();
      await Promise.resolve();
      await Promise.resolve();
      seen.push(s.now());
    };
    void chain();
    timer(101, s).subscribe(() => seen.push(s.now()));
    await s.advanceTo(200, () => tracker.idle());
    expect(seen).to.deep.equal([100, 101]);
  });

  it('delivers messages after the publishing callback, in publication order', async () => {
    const s = new SteppingScheduler(0);
    const bus = new InProcessBus(s);
    const a = new InProcessNode(bus, { name: 'a' });
    const b = new InProcessNode(bus, { name: 'b' });
    const got: string[] = [];
    b.subscribe('std_msgs/msg/String', '/t', QOS_COMMAND).subscribe((m) => got.push(m.data));
    const pub = a.createPublisher('std_msgs/msg/String', '/t', QOS_COMMAND);
    pub.publish({ data: 'one' });
    pub.publish({ data: 'two' });
    expect(got).to.deep.equal([]);
    await s.advanceTo(0);
    expect(got).to.deep.equal(['one', 'two']);
    expect(() => a.createPublisher('std_msgs/msg/Bool', '/t', QOS_COMMAND)).to.throw(
      /topic \/t: expected type std_msgs\/msg\/String/,
    );
  });

  it("runs actions in the order of RxJS's VirtualTimeScheduler (its queue sorted on every schedule): random workloads with ties, nesting, periodic rescheduling and cancellation", async () => {
    /** A workload on a scheduler: what ran, when, in order. */
    const workload = (s: SchedulerLike, seed: number): string[] => {
      let x = seed;
      const rnd = (n: number) => {
        x = (x * 1103515245 + 12345) % 2147483648;
        return x % n;
      };
      const log: string[] = [];
      let next = 0;
      const delayOf = () => [0, 0, 1, 2, 5, 10, rnd(40)][rnd(7)]!;
      const task = (depth: number) =>
        function (this: SchedulerAction<number>, state?: number) {
          const id = next++;
          log.push(`${id}@${s.now()} d${depth} s${state}`);
          if (state !== undefined && state > 0) this.schedule(state - 1, [1, 3, 0][rnd(3)]); // periodic
          if (depth < 3) for (let k = rnd(3); k > 0; k--) s.schedule(task(depth + 1), delayOf());
          if (rnd(5) === 0) s.schedule(task(depth + 1), delayOf()).unsubscribe(); // cancelled before it runs
        };
      for (let k = 0; k < 40; k++) s.schedule(task(0), delayOf(), rnd(3) === 0 ? rnd(5) : undefined);
      return log;
    };
    for (let seed = 1; seed <= 30; seed++) {
      const reference = new VirtualTimeScheduler(VirtualAction, Infinity);
      const expected = workload(reference, seed);
      reference.flush();
      const stepping = new SteppingScheduler(0);
      const got = workload(stepping, seed);
      await stepping.advanceTo(10_000);
      expect(got.length, `seed ${seed}`).to.be.greaterThan(40);
      expect(got, `seed ${seed}`).to.deep.equal(expected);
    }
  });
  it('an action that ran and is scheduled again keeps its lower index among actions due at the same time, as in RxJS', async () => {
    const workload = (s: SchedulerLike): string[] => {
      const log: string[] = [];
      const first = s.schedule(function (this: SchedulerAction<string>, tag?: string) {
        log.push(`${tag ?? 'first'}@${s.now()}`);
      }, 0) as unknown as SchedulerAction<string>;
      s.schedule(() => {
        // Made now, so with higher indexes than first; due at 6 like first's second run.
        s.schedule(() => log.push(`a@${s.now()}`), 5);
        first.schedule('again', 5);
        s.schedule(() => log.push(`b@${s.now()}`), 5);
      }, 1);
      return log;
    };
    const reference = new VirtualTimeScheduler(VirtualAction, Infinity);
    const expected = workload(reference);
    reference.flush();
    const stepping = new SteppingScheduler(0);
    const got = workload(stepping);
    await stepping.advanceTo(100);
    expect(expected).to.have.length(4);
    expect(got).to.deep.equal(expected);
  });
});
