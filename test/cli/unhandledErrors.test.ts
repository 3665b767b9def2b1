import { expect } from 'chai';
import { Subject } from 'rxjs';
import { containUnhandled } from '../../nodes/cli/unhandledErrors.js';

/** What node code does wrong: a subscription callback that throws (RxJS reports it on a timer, never to the caller). */
function throwInCallback(message: string): void {
  const s = new Subject<number>();
  s.subscribe(() => {
    throw new Error(message);
  });
  s.next(1);
}
const turn = () => new Promise((r) => setTimeout(r, 5));

describe('cli: callback errors contained per bag (containUnhandled)', () => {
  it('an error goes to the bag whose replay raised it, once; the bag beside it gets none', async () => {
    const c = containUnhandled();
    try {
      const got: Record<string, unknown[]> = { a: [], b: [] };
      let release!: () => void;
      const bGoes = new Promise<void>((r) => (release = r));
      await Promise.all([
        c.run(async (errors) => {
          await turn();
          throwInCallback('int64 field in arithmetic');
          release();
          await turn();
          got['a']!.push(errors.take(), errors.take());
        }),
        c.run(async (errors) => {
          await bGoes; // b runs on while a's error is raised and reported
          await turn();
          got['b']!.push(errors.take());
        }),
      ]);
      expect(String(got['a']![0])).to.match(/int64 field in arithmetic/);
      expect(got['a']![1]).to.equal(undefined);
      expect(got['b']).to.deep.equal([undefined]);
      expect(c.takeOrphans()).to.deep.equal([]);
    } finally {
      c.restore();
    }
  });

  it('an error raised outside every bag fails each bag running then; with none running it is kept, never dropped', async () => {
    const c = containUnhandled();
    try {
      // A timer set before any bag ran has no bag's context.
      let fire!: () => void;
      const outside = new Promise<void>((r) => (fire = r));
      setTimeout(() => void outside.then(() => throwInCallback('from nowhere')), 0);
      const takes: unknown[] = [];
      const bag = () =>
        c.run(async (errors) => {
          fire();
          await turn();
          await turn();
          takes.push(errors.take());
        });
      await Promise.all([bag(), bag()]);
      expect(takes.map(String)).to.deep.equal(['Error: from nowhere', 'Error: from nowhere']);
      throwInCallback('after the bags');
      await turn();
      expect(c.takeOrphans().map(String)).to.deep.equal(['Error: after the bags']);
      expect(c.takeOrphans()).to.deep.equal([]);
    } finally {
      c.restore();
    }
  });

  it('an error raised by a bag after it last looked is kept as an orphan', async () => {
    const c = containUnhandled();
    try {
      await c.run(async () => {
        throwInCallback('late');
      });
      await turn();
      expect(c.takeOrphans().map(String)).to.deep.equal(['Error: late']);
    } finally {
      c.restore();
    }
  });
});
