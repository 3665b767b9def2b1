import { expect } from 'chai';
import { EMPTY, type Observable } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { EngineError } from '../../../nodes/core/planningEngine.js';
import { planLatest, type PlanEvent } from '../../../nodes/planner/operators/planLatest.js';

type Ev = PlanEvent<string, string>;
const started = (input: string): Ev => ({ kind: 'started', input });
const completed = (input: string, result = `${input}!`): Ev => ({ kind: 'completed', input, result });
const superseded = (input: string): Ev => ({ kind: 'superseded', input });

describe('planner/operators/planLatest', () => {
  let ts: TestScheduler;
  beforeEach(() => {
    ts = new TestScheduler((a, b) => {
      expect(a).to.deep.equal(b);
    });
  });

  it('runs one plan at a time; while it runs the latest input waits and older ones are superseded', () => {
    ts.run(({ hot, cold, expectObservable }) => {
      const src = hot('  a 99ms b 99ms c 49ms d 499ms |');
      const engine = (i: string) => cold('300ms (r|)', { r: `${i}!` });
      const expected = ' A 199ms B 49ms C 49ms (XD) 296ms Y 149ms |';
      //                 a runs 0–300 ms; b, c superseded; d waits and starts when a completes
      expectObservable(src.pipe(planLatest(engine, 100, ts))).toBe(expected, {
        A: started('a'),
        B: superseded('b'),
        C: superseded('c'),
        X: completed('a'),
        D: started('d'),
        Y: completed('d'),
      });
    });
  });

  it('starts at most once per minIntervalMs even when the engine is faster', () => {
    ts.run(({ hot, cold, expectObservable }) => {
      const src = hot('  a 29ms b 29ms c 29ms d|');
      const engine = (i: string) => cold('10ms (r|)', { r: `${i}!` });
      const expected = ' A 9ms X 49ms B 29ms C 9ms D 9ms (Y|)';
      //                 next start allowed at 100 ms: d, the latest, runs then
      expectObservable(src.pipe(planLatest(engine, 100, ts))).toBe(expected, {
        A: started('a'),
        X: completed('a'),
        B: superseded('b'),
        C: superseded('c'),
        D: started('d'),
        Y: completed('d'),
      });
    });
  });

  it('an engine error fails that input only; the next input is planned', () => {
    ts.run(({ hot, cold, expectObservable }) => {
      const err = new EngineError('runtime', 'boom');
      const src = hot('  a 9ms b 99ms |');
      const engine = (i: string): Observable<string> =>
        i === 'a' ? cold('50ms #', undefined, err) : cold('50ms (r|)', { r: 'b!' });
      const expected = ' A 49ms (FB) 46ms Y 9ms |';
      expectObservable(src.pipe(planLatest(engine, 0, ts))).toBe(expected, {
        A: started('a'),
        F: { kind: 'failed', input: 'a', error: err },
        B: started('b'),
        Y: completed('b'),
      });
    });
  });

  it('a plan that completes empty is cancelled; a plan function that throws is failed', () => {
    ts.run(({ hot, expectObservable }) => {
      const err = new Error('sync');
      const src = hot('  a 9ms b 9ms |');
      const engine = (i: string): Observable<string> => {
        if (i === 'b') throw err;
        return EMPTY;
      };
      const expected = ' (AC) 6ms (BF) 6ms |';
      expectObservable(src.pipe(planLatest(engine, 0, ts))).toBe(expected, {
        A: started('a'),
        C: { kind: 'cancelled', input: 'a' },
        B: started('b'),
        F: { kind: 'failed', input: 'b', error: err },
      });
    });
  });

  it('only the first value of a plan counts', () => {
    ts.run(({ hot, cold, expectObservable }) => {
      const src = hot('  a|');
      const expected = ' A 9ms (X|)';
      expectObservable(src.pipe(planLatest(() => cold('10ms r 5ms s|'), 0, ts))).toBe(expected, {
        A: started('a'),
        X: completed('a', 'r'),
      });
    });
  });

  it('empty completes, never stays silent, a source error propagates', () => {
    ts.run(({ cold, expectObservable }) => {
      const engine = () => cold('10ms (r|)');
      expectObservable(cold('|').pipe(planLatest(engine, 0, ts))).toBe('|');
      expectObservable(cold('-').pipe(planLatest(engine, 0, ts))).toBe('-');
      expectObservable(cold('5ms #').pipe(planLatest(engine, 0, ts))).toBe('5ms #');
    });
  });

  it('unsubscribing tears down the running plan', () => {
    ts.run(({ hot, cold, expectObservable, expectSubscriptions }) => {
      const plan = cold('300ms (r|)');
      const src = hot('  a 9ms b');
      const unsub = '     100ms !';
      expectObservable(src.pipe(planLatest(() => plan, 0, ts)), unsub).toBe('A', { A: started('a') });
      expectSubscriptions(plan.subscriptions).toBe('^ 99ms !');
    });
  });

  it('refuses a bad interval when built', () => {
    expect(() => planLatest(() => EMPTY, -1, ts)).to.throw(
      RangeError,
      /planLatest: minIntervalMs: expected a finite value >= 0 ms, got -1/,
    );
    expect(() => planLatest(() => EMPTY, NaN, ts)).to.throw(RangeError);
  });
});
