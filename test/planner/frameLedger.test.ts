import { expect } from 'chai';
import fc from 'fast-check';
import type { CameraFrame } from '../../nodes/core/planningEngine.js';
import { FrameLedger, type FrameRecord, type ReleaseOutcome } from '../../nodes/planner/frameLedger.js';

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

describe('planner/frameLedger', () => {
  it('a frame used by two plans counts once as planned; one never selected drops as unused', () => {
    const l = new FrameLedger(1, 8);
    const recs = [0, 1, 2].map((t) => l.add(0, frame(t)));
    l.acquire([recs[1]!, recs[2]!]);
    l.release([recs[1]!, recs[2]!], 'completed');
    l.acquire([recs[2]!]);
    l.release([recs[2]!], 'completed');
    l.retire(0, 2);
    expect(l.counts()).to.deep.equal({ received: 3, planned: 2, waiting: 0, dropped: { unused: 1 } });
  });

  it('a held frame is not counted when it leaves the buffer, only when its input settles', () => {
    const l = new FrameLedger(1, 2);
    const a = l.add(0, frame(0));
    l.acquire([a]);
    l.add(0, frame(1));
    l.add(0, frame(2)); // evicts a while held
    expect(l.counts().waiting).to.equal(3);
    l.release([a], 'superseded');
    expect(l.counts()).to.deep.equal({ received: 3, planned: 0, waiting: 2, dropped: { superseded: 1 } });
  });

  it('time_reset overrides a completed plan still in flight; shutdown settles everything', () => {
    const l = new FrameLedger(1, 4);
    const a = l.add(0, frame(0));
    l.acquire([a]);
    l.clear('time_reset');
    l.release([a], 'completed');
    l.add(0, frame(0));
    l.clear('shutdown', true);
    expect(l.counts()).to.deep.equal({ received: 2, planned: 0, waiting: 0, dropped: { time_reset: 1, shutdown: 1 } });
  });

  it('property: received = planned + dropped + waiting after every operation, and waiting matches a recount', () => {
    type Op = {
      op: 'add' | 'reject' | 'retire' | 'acquire' | 'release' | 'tag' | 'reset';
      cam: number;
      n: number;
      outcome: ReleaseOutcome;
    };
    const op = fc.record({
      op: fc.constantFrom('add', 'add', 'add', 'reject', 'retire', 'acquire', 'release', 'release', 'tag', 'reset'),
      cam: fc.integer({ min: 0, max: 1 }),
      n: fc.integer({ min: 0, max: 5 }),
      outcome: fc.constantFrom<ReleaseOutcome>('completed', 'failed', 'superseded', 'cancelled'),
    }) as fc.Arbitrary<Op>;
    fc.assert(
      fc.property(fc.array(op, { maxLength: 80 }), (ops) => {
        const l = new FrameLedger(2, 4);
        const held: FrameRecord[][] = [];
        let t = 0;
        for (const o of ops) {
          switch (o.op) {
            case 'add':
              l.add(o.cam, frame(t++));
              break;
            case 'reject':
              l.reject('bad_size');
              break;
            case 'retire':
              l.retire(o.cam, o.n);
              break;
            case 'acquire': {
              const rs = l.buffers[o.cam]!.slice(0, o.n);
              l.acquire(rs);
              held.push(rs);
              break;
            }
            case 'release': {
              const rs = held.shift();
              if (rs) l.release(rs, o.outcome);
              break;
            }
            case 'tag':
              l.tag('odometry_gap');
              break;
            case 'reset':
              l.clear('time_reset');
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
        for (const rs of held) l.release(rs, 'cancelled');
        l.clear('shutdown', true);
        const c = l.counts();
        return c.waiting === 0 && c.received === c.planned + sum(c.dropped);
      }),
      { numRuns: 300 },
    );
  });
});
