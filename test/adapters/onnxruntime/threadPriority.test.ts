import { expect } from 'chai';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { getPriority, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import {
  currentThreadId,
  lowerThreadPriority,
  type PriorityIo,
} from '../../../nodes/adapters/onnxruntime/threadPriority.js';
import { createOnnxEngine } from '../../../nodes/adapters/onnxruntime/index.js';
import { makeDemoBundle } from '../../../nodes/syntheticBundles/demoBundle.js';

/** Nice value of every thread of this process, by thread id (Linux). */
function threadNices(): Map<number, number> {
  const out = new Map<number, number>();
  for (const t of readdirSync('/proc/self/task').map(Number)) {
    try {
      out.set(t, getPriority(t));
    } catch {
      // the thread ended between the listing and the read
    }
  }
  return out;
}

/** A fake kernel: nice values per thread id; setPriority may be refused. */
function fakeIo(over: Partial<PriorityIo> = {}, nice = new Map<number, number>([[4242, 0]])): PriorityIo {
  return {
    platform: 'linux',
    threadSelf: () => '4000/task/4242',
    getPriority: (id) => {
      const v = nice.get(id);
      if (v === undefined) throw new Error(`ESRCH: no thread ${id}`);
      return v;
    },
    setPriority: (id, v) => {
      nice.set(id, v);
    },
    ...over,
  };
}

describe('threadPriority: the inference worker runs below the main thread', () => {
  it('reads the calling thread id from /proc/thread-self', () => {
    expect(currentThreadId({ threadSelf: () => '4000/task/4242' })).to.equal(4242);
    expect(currentThreadId({ threadSelf: () => '/proc/4000/task/17' })).to.equal(17);
    expect(currentThreadId({ threadSelf: () => 'garbage' })).to.equal(undefined);
    expect(
      currentThreadId({
        threadSelf: () => {
          throw new Error('ENOENT');
        },
      }),
    ).to.equal(undefined);
  });

  it('raises the nice value of this thread only, and reports from and to', () => {
    const nice = new Map([
      [4242, 0],
      [4000, 0],
    ]);
    expect(lowerThreadPriority(10, fakeIo({}, nice))).to.deep.equal({ kind: 'lowered', tid: 4242, from: 0, to: 10 });
    expect(nice.get(4000)).to.equal(0);
  });

  it('never raises a priority: a thread already at or above the value is left alone', () => {
    const nice = new Map([[4242, 15]]);
    const r = lowerThreadPriority(10, fakeIo({}, nice));
    expect(r).to.deep.equal({ kind: 'kept', tid: 4242, nice: 15 });
    expect(nice.get(4242)).to.equal(15);
  });

  it('changes nothing, and says why, for nice 0, off Linux, without /proc, or when the kernel refuses', () => {
    expect(lowerThreadPriority(0, fakeIo())).to.include({ kind: 'unchanged' });
    expect(lowerThreadPriority(10, fakeIo({ platform: 'darwin' }))).to.deep.equal({
      kind: 'unchanged',
      reason: 'per-thread priority is set on Linux only (platform darwin)',
    });
    expect(lowerThreadPriority(10, fakeIo({ threadSelf: () => 'x' }))).to.deep.equal({
      kind: 'unchanged',
      reason: '/proc/thread-self is not readable',
    });
    const refused = lowerThreadPriority(
      10,
      fakeIo({
        setPriority: () => {
          throw new Error('EACCES: permission denied');
        },
      }),
    );
    expect(refused).to.deep.equal({
      kind: 'unchanged',
      reason: 'setpriority on thread 4242 refused: EACCES: permission denied',
    });
  });

  it('refuses a value outside 0…19', () => {
    for (const bad of [-1, 20, 2.5, NaN]) expect(() => lowerThreadPriority(bad, fakeIo())).to.throw(RangeError, /0…19/);
  });

  it('on this Linux machine: a worker thread lowers itself; the main thread keeps its priority', async function () {
    if (process.platform !== 'linux') this.skip();
    const mainBefore = getPriority();
    const mod = fileURLToPath(new URL('../../../dist/adapters/onnxruntime/threadPriority.js', import.meta.url));
    const code = `
      const { parentPort } = require('node:worker_threads');
      const { getPriority } = require('node:os');
      import(${JSON.stringify(mod)}).then((m) => {
        const outcome = m.lowerThreadPriority(7);
        parentPort.postMessage({ outcome, tid: m.currentThreadId(), now: getPriority(m.currentThreadId()) });
      });`;
    const w = new Worker(code, { eval: true });
    const got = await new Promise<{ outcome: { kind: string; to?: number }; tid: number; now: number }>((res, rej) => {
      w.once('message', res);
      w.once('error', rej);
    });
    await w.terminate();
    expect(got.tid).to.not.equal(process.pid);
    if (mainBefore >= 7) {
      expect(got.outcome.kind).to.equal('kept');
    } else {
      expect(got.outcome).to.include({ kind: 'lowered', to: 7 });
      expect(got.now).to.equal(7);
    }
    expect(getPriority()).to.equal(mainBefore);
  });

  describe('the engine', () => {
    let dir: string;
    before(() => {
      dir = mkdtempSync(join(tmpdir(), 'ar1-nice-'));
      makeDemoBundle(join(dir, 'bundle'), { imageHeight: 32, imageWidth: 56 });
    });
    after(() => rmSync(dir, { recursive: true, force: true }));

    it('refuses a workerNice outside 0…19 before starting a worker', async () => {
      for (const workerNice of [-1, 20, 1.5]) {
        const err = await createOnnxEngine({ bundleDir: join(dir, 'bundle'), workerNice }).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(err).to.be.instanceOf(RangeError);
        expect((err as Error).message).to.match(/workerNice: expected an integer 0…19, got/);
      }
    });

    it('on this Linux machine: its worker and the onnxruntime threads run at nice 10 by default; the main thread does not', async function () {
      if (process.platform !== 'linux' || getPriority() >= 10) this.skip();
      const before = threadNices();
      const engine = await createOnnxEngine({ bundleDir: join(dir, 'bundle') });
      try {
        const started = [...threadNices()].filter(([t]) => !before.has(t));
        const lowered = started.filter(([, n]) => n === 10);
        // the worker thread itself and, with more than one intra-op thread, onnxruntime's pool
        expect(lowered.length).to.be.at.least(1);
        expect(getPriority(process.pid)).to.equal(before.get(process.pid));
      } finally {
        await engine.close();
      }
    });
  });
});
