import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import fc from 'fast-check';
import type { CameraFrame } from '../../nodes/core/planningEngine.js';
import {
  DROP_REASONS,
  droppedAtEnd,
  FrameAccounting,
  type DropReason,
  type FrameRecord,
  type PlanOutcome,
} from '../../nodes/planner/frameAccounting.js';

const frame = (stampS: number): CameraFrame => ({
  camera: 'c',
  stampS,
  encoding: 'mono8',
  width: 1,
  height: 1,
  step: 1,
  data: new Uint8Array(1),
});
const sum = (d: Record<string, number>) => Object.values(d).reduce((a, b) => a + b, 0);

describe('planner/frameAccounting', () => {
  it('a frame used by two plans counts once as planned; one never selected drops as unused', () => {
    const l = new FrameAccounting(1, 8, 0.5);
    const recs = [0, 1, 2].map((t) => l.admit(0, frame(t)));
    l.hold([recs[1]!, recs[2]!]);
    l.settle([recs[1]!, recs[2]!], 'completed');
    l.hold([recs[2]!]);
    l.settle([recs[2]!], 'completed');
    l.passed(0, 2);
    expect(l.counts()).to.deep.equal({ received: 3, planned: 2, waiting: 0, dropped: { unused: 1 } });
  });

  it('a held frame is not counted when it leaves the buffer, only when its input settles', () => {
    const l = new FrameAccounting(1, 2, 0.5);
    const a = l.admit(0, frame(0));
    l.hold([a]);
    l.admit(0, frame(1));
    l.admit(0, frame(2)); // evicts a while held
    expect(l.counts().waiting).to.equal(3);
    l.settle([a], 'superseded');
    expect(l.counts()).to.deep.equal({ received: 3, planned: 0, waiting: 2, dropped: { superseded: 1 } });
  });

  it('time_reset overrides a completed plan still in flight; shutdown settles everything', () => {
    const l = new FrameAccounting(1, 4, 0.5);
    const a = l.admit(0, frame(0));
    l.hold([a]);
    l.timeReset();
    l.settle([a], 'completed');
    l.admit(0, frame(0));
    l.shutdown();
    expect(l.counts()).to.deep.equal({ received: 2, planned: 0, waiting: 0, dropped: { time_reset: 1, shutdown: 1 } });
  });

  it('property: received = planned + dropped + waiting after every operation, and waiting matches a recount', () => {
    type Op = {
      op: 'add' | 'reject' | 'retire' | 'acquire' | 'release' | 'releaseBad' | 'tag' | 'reset';
      cam: number;
      n: number;
      outcome: PlanOutcome;
    };
    const op = fc.record({
      op: fc.constantFrom(
        'add',
        'add',
        'add',
        'reject',
        'retire',
        'acquire',
        'release',
        'release',
        'releaseBad',
        'tag',
        'reset',
      ),
      cam: fc.integer({ min: 0, max: 1 }),
      n: fc.integer({ min: 0, max: 5 }),
      outcome: fc.constantFrom<PlanOutcome>('completed', 'failed', 'superseded', 'cancelled'),
    }) as fc.Arbitrary<Op>;
    fc.assert(
      fc.property(fc.array(op, { maxLength: 80 }), (ops) => {
        const l = new FrameAccounting(2, 4, 0.5);
        const held: FrameRecord[][] = [];
        let t = 0;
        for (const o of ops) {
          switch (o.op) {
            case 'add':
              l.admit(o.cam, frame(t++));
              break;
            case 'reject':
              l.messageRefused('bad_size');
              break;
            case 'retire':
              l.passed(o.cam, o.n);
              break;
            case 'acquire': {
              const rs = l.buffers[o.cam]!.slice(0, o.n);
              l.hold(rs);
              held.push(rs);
              break;
            }
            case 'release': {
              const rs = held.shift();
              if (rs) l.settle(rs, o.outcome);
              break;
            }
            case 'releaseBad': {
              // The plan failed on its frame n (an input error naming it): bad_image.
              const rs = held.shift();
              if (rs) l.settle(rs, 'failed', rs[o.n % Math.max(rs.length, 1)]);
              break;
            }
            case 'tag':
              l.cycleSkipped('odometry_gap');
              break;
            case 'reset':
              l.timeReset();
              break;
          }
          const c = l.counts();
          if (
            c.received !== c.planned + sum(c.dropped) + c.waiting ||
            c.waiting !== l.recountWaiting() ||
            c.waiting < 0
          )
            return false;
        }
        for (const rs of held) l.settle(rs, 'cancelled');
        l.shutdown();
        const c = l.counts();
        return c.waiting === 0 && c.received === c.planned + sum(c.dropped);
      }),
      { numRuns: 300 },
    );
  });
  /**
   * Every drop reason, with the state the frames are in and the event that drops them (state × event). Each row
   * starts from fresh accounting (2 cameras, 3 frames buffered per camera, time reset beyond 0.5 s); the expected
   * counts are the whole dropped map after the event, so a row also fails when another reason is emitted.
   */
  type Row = {
    reason: DropReason;
    state: string;
    given: (a: FrameAccounting) => FrameRecord[];
    event: string;
    when: (a: FrameAccounting, held: FrameRecord[]) => void;
    /** The event is the end of a replay: the expected counts are those of its report (droppedAtEnd). */
    endOfRun?: true;
    dropped: number;
    waiting: number;
  };
  const buffered = (a: FrameAccounting, ...stamps: number[]) => stamps.map((t) => a.admit(0, frame(t)));
  const heldPastWindow = (a: FrameAccounting) => {
    const rs = buffered(a, 0);
    a.hold(rs);
    a.passed(0, 1);
    return rs;
  };
  const skipped = (reason: DropReason & Parameters<FrameAccounting['cycleSkipped']>[0]): Row => ({
    reason,
    state: `one frame buffered, the last cycle skipped as ${reason}`,
    given: (a) => {
      const rs = buffered(a, 0);
      a.cycleSkipped(reason);
      return rs;
    },
    event: 'it falls behind the selection window',
    when: (a) => a.passed(0, 1),
    dropped: 1,
    waiting: 0,
  });
  const TABLE: Row[] = [
    ...(['bad_encoding', 'bad_size', 'bad_message'] as const).map((reason): Row => ({
      reason,
      state: 'empty',
      given: () => [],
      event: `a camera message fails its check with ${reason}`,
      when: (a) => a.messageRefused(reason),
      dropped: 1,
      waiting: 0,
    })),
    {
      reason: 'out_of_order',
      state: 'camera 0 has a frame at 10 s',
      given: (a) => buffered(a, 10),
      event: 'a frame at 9.9 s arrives (0.1 s back, within the 0.5 s reset threshold)',
      when: (a) => void expect(a.frameArrived(0, 9.9)).to.equal('out_of_order'),
      dropped: 1,
      waiting: 1,
    },
    {
      reason: 'out_of_order',
      state: 'camera 0 has a frame at 10 s',
      given: (a) => buffered(a, 10),
      event: 'a second frame stamped 10 s arrives (duplicate)',
      when: (a) => void expect(a.frameArrived(0, 10)).to.equal('out_of_order'),
      dropped: 1,
      waiting: 1,
    },
    {
      reason: 'frame_ring_full',
      state: 'empty',
      given: () => [],
      event: 'the frame store has no free slot for an arriving frame',
      when: (a) => a.storeFull(),
      dropped: 1,
      waiting: 0,
    },
    {
      reason: 'unused',
      state: 'frames at 0 and 0.1 s buffered, never selected',
      given: (a) => buffered(a, 0, 0.1),
      event: 'the older one falls behind the selection window',
      when: (a) => a.passed(0, 1),
      dropped: 1,
      waiting: 1,
    },
    {
      reason: 'buffer_full',
      state: 'camera 0 buffer full (3 frames)',
      given: (a) => buffered(a, 0, 0.1, 0.2),
      event: 'a fourth frame is admitted',
      when: (a) => void a.admit(0, frame(0.3)),
      dropped: 1,
      waiting: 3,
    },
    {
      reason: 'superseded',
      state: 'a frame held by a pending input, out of the selection window',
      given: heldPastWindow,
      event: 'its input is replaced by a newer one',
      when: (a, held) => a.settle(held, 'superseded'),
      dropped: 1,
      waiting: 0,
    },
    {
      reason: 'engine_error',
      state: 'a frame held by a running plan, out of the selection window',
      given: heldPastWindow,
      event: 'the plan fails (or its result is refused)',
      when: (a, held) => a.settle(held, 'failed'),
      dropped: 1,
      waiting: 0,
    },
    {
      reason: 'bad_image',
      state: 'a frame buffered (still selectable) and held by a running plan',
      given: (a) => {
        const rs = buffered(a, 0);
        a.hold(rs);
        return rs;
      },
      event: 'the plan fails with an input error naming this frame',
      when: (a, held) => {
        a.settle(held, 'failed', held[0]);
        expect(a.buffers[0]).to.deep.equal([]);
      },
      dropped: 1,
      waiting: 0,
    },
    {
      reason: 'plan_timeout',
      state: 'a frame held by a running plan, out of the selection window',
      given: heldPastWindow,
      event: 'the plan is abandoned after plan_timeout_s',
      when: (a, held) => a.settle(held, 'timed_out'),
      dropped: 1,
      waiting: 0,
    },
    {
      reason: 'time_reset',
      state: 'two frames buffered',
      given: (a) => buffered(a, 10, 10.1),
      event: 'a frame 1 s older arrives (beyond the reset threshold) and the timeline is reset',
      when: (a) => {
        expect(a.frameArrived(0, 9.1)).to.equal('time_reset');
        a.timeReset();
      },
      dropped: 2,
      waiting: 0,
    },
    {
      reason: 'time_reset',
      state: 'a frame held by a running plan when the timeline was reset',
      given: (a) => {
        const rs = buffered(a, 0);
        a.hold(rs);
        a.timeReset();
        return rs;
      },
      event: 'the plan completes',
      when: (a, held) => a.settle(held, 'completed'),
      dropped: 1,
      waiting: 0,
    },
    {
      reason: 'shutdown',
      state: 'one frame buffered, one held by a running plan',
      given: (a) => {
        const rs = buffered(a, 0, 0.1);
        a.hold(rs.slice(0, 1));
        return rs;
      },
      event: 'the node stops',
      when: (a) => a.shutdown(),
      dropped: 2,
      waiting: 0,
    },
    {
      reason: 'end_of_bag',
      state: 'one frame waiting',
      given: (a) => buffered(a, 0),
      event: 'the replay ends (its report counts what is still waiting)',
      when: () => undefined,
      endOfRun: true,
      dropped: 1,
      waiting: 1,
    },
    ...(
      [
        'camera_missing',
        'camera_stale',
        'frame_missing',
        'frame_too_old',
        'odometry_missing',
        'odometry_late',
        'odometry_gap',
        'odometry_jump',
        'history_short',
      ] as const
    ).map(skipped),
  ];

  describe('every drop reason, with the state and the event that cause it', () => {
    for (const row of TABLE) {
      it(`${row.reason}: ${row.state}; ${row.event}`, () => {
        const a = new FrameAccounting(2, 3, 0.5);
        const held = row.given(a);
        const before = a.counts();
        row.when(a, held);
        const c = a.counts();
        const added = row.endOfRun
          ? droppedAtEnd(c)
          : Object.fromEntries(
              Object.entries(c.dropped)
                .map(([k, n]) => [k, n - (before.dropped[k] ?? 0)] as const)
                .filter(([, n]) => n !== 0),
            );
        expect(added).to.deep.equal({ [row.reason]: row.dropped });
        expect(c.waiting).to.equal(row.waiting);
        expect(c.received).to.equal(c.planned + sum(c.dropped) + c.waiting);
      });
    }

    it('the table covers every reason the accounting can emit, and only those', () => {
      expect([...new Set(TABLE.map((r) => r.reason))].sort()).to.deep.equal([...DROP_REASONS].sort());
    });

    it("the planner README's drop reason table names every reason, and only those", () => {
      const readme = readFileSync(new URL('../../nodes/planner/README.md', import.meta.url), 'utf8');
      const section = readme.slice(readme.indexOf('### Frame accounting and drop reasons'));
      const table = section.slice(
        section.indexOf('| reason | when |'),
        section.indexOf('\n\n', section.indexOf('| reason |')),
      );
      const named = table
        .split('\n')
        .slice(2)
        .flatMap((row) => [...(row.split('|')[1] ?? '').matchAll(/`([a-z_]+)`/g)].map((m) => m[1]!));
      expect([...named].sort()).to.deep.equal([...DROP_REASONS].sort());
    });
  });
});
