import { expect } from 'chai';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Subject } from 'rxjs';
import sinon from 'sinon';
import { outputDirs, runReplayCli, type ReplayCliOptions } from '../../nodes/cli/replayCommand.js';
import { UserError } from '../../nodes/core/errors.js';
import type { FrameStore, PlanInput, PlanningEngine, PlanResult } from '../../nodes/core/planningEngine.js';
import { createBagWriter, openBag, type BagMessage } from '../../nodes/adapters/mcap/index.js';
import { makeSampleBag } from '../../nodes/replay/sampleBag.js';
import { CONTRACT, fakeResult } from '../planner/harness.js';

const PARAMS = fileURLToPath(new URL('../../config/sample_bag.yaml', import.meta.url));
/** [s] the culprit bag's drive starts here; the other bags' at 1.7e9 s (makeSampleBag's default). */
const CULPRIT_T0_S = 1.8e9;

/** Frame stores the engine made, and how many were closed (the planner closes its store when it stops). */
const stores = { made: 0, closed: 0 };

/** An engine without a model: a fixed plan at once. For a plan of the culprit bag, a node callback throws first. */
function engine(): PlanningEngine & { createFrameStore(): FrameStore } {
  return {
    createFrameStore: () => {
      stores.made++;
      return { admit: (_camera, frame) => ({ frame, release: () => undefined }), close: () => void stores.closed++ };
    },
    provider: 'fake',
    contract: { ...CONTRACT, imageWidth: 320, imageHeight: 180 },
    plan(input: PlanInput): Promise<PlanResult> {
      if (input.t0S >= CULPRIT_T0_S) {
        const s = new Subject<void>();
        s.subscribe(() => {
          throw new Error('callback threw in culprit');
        });
        s.next();
      }
      return Promise.resolve(fakeResult(input));
    },
    close: () => Promise.resolve(),
  };
}

describe('cli: ar1 replay, failed bags (in process, an engine without a model)', function () {
  this.timeout(120000);
  let dir: string;
  let stderr: string;
  let write: sinon.SinonStub;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ar1-replay-fail-'));
    await makeSampleBag(join(dir, 'good'), { durationS: 2 });
    await makeSampleBag(join(dir, 'culprit'), { durationS: 2, startTimeNs: BigInt(CULPRIT_T0_S) * 1_000_000_000n });
    // The good bag, then one more odometry message two hours on: replay refuses it half way (a gap over 1 h).
    const good = await openBag(join(dir, 'good'));
    const w = await createBagWriter(join(dir, 'gap'));
    for (const t of (await good.info()).topics) await w.addTopic(t.topic, t.type);
    let last: BagMessage | undefined;
    for await (const m of good.messages({ decode: true })) {
      await w.write(m.topic, m.logTimeNs, m.message);
      if (m.topic.includes('odometry')) last = m;
    }
    await w.write(last!.topic, last!.logTimeNs + 7200n * 1_000_000_000n, last!.message);
    await w.close();
    await good.close();
  });
  after(() => rmSync(dir, { recursive: true, force: true }));
  beforeEach(() => {
    stderr = '';
    write = sinon.stub(process.stderr, 'write').callsFake((chunk: string | Uint8Array) => {
      stderr += String(chunk);
      return true;
    });
  });
  afterEach(() => write.restore());

  const opts = (out: string, bags: string[], over: Partial<ReplayCliOptions> = {}): ReplayCliOptions => ({
    bag: bags.map((b) => join(dir, b)),
    bundle: 'no-bundle-needed',
    params: [PARAMS],
    out: join(dir, out),
    seed: '0',
    samples: '1',
    latency: '100',
    outputBag: false,
    logLevel: 'error',
    json: true,
    ...over,
  });
  const run = async (o: ReplayCliOptions) => {
    const stdout: string[] = [];
    const out = sinon.stub(process.stdout, 'write').callsFake((chunk: string | Uint8Array) => {
      stdout.push(String(chunk));
      return true;
    });
    try {
      return { rc: await runReplayCli(o, () => Promise.resolve(engine())), stdout: stdout.join('') };
    } finally {
      out.restore();
    }
  };

  for (const batch of ['1', '2']) {
    it(`--batch ${batch}: a callback error fails the bag that raised it, and only that bag; it leaves no report`, async () => {
      const out = `blame-${batch}`;
      // An earlier run's reports in the culprit's folder, and a summary: neither may survive a run that fails it.
      mkdirSync(join(dir, out, 'culprit'), { recursive: true });
      writeFileSync(join(dir, out, 'culprit', 'report.json'), '{"stale":true}');
      writeFileSync(join(dir, out, 'summary.json'), '{"stale":true}');
      const r = await run(opts(out, ['good', 'culprit'], { batch }));
      expect(r.rc).to.equal(1);
      expect(stderr).to.equal(
        `ar1: ${join(dir, 'culprit')}: a message could not be handled: callback threw in culprit\n`,
      );
      const json = JSON.parse(r.stdout) as { bags: Array<{ bag: string }>; failed: string[] };
      expect(json.bags.map((b) => b.bag)).to.deep.equal([join(dir, 'good')]);
      expect(existsSync(join(dir, out, 'good', 'report.json'))).to.equal(true);
      for (const f of ['report.json', 'compute.json', 'report.html'])
        expect(existsSync(join(dir, out, 'culprit', f)), f).to.equal(false);
      expect(existsSync(join(dir, out, 'summary.json')), 'one bag done: no summary').to.equal(false);
    });
  }

  it('--batch 2 outputs of the good bag are byte-identical to its replay alone', async () => {
    expect(await run(opts('alone', ['good']))).to.have.property('rc', 0);
    await run(opts('pair', ['good', 'culprit'], { batch: '2' }));
    expect(readFileSync(join(dir, 'pair', 'good', 'report.json'), 'utf8')).to.equal(
      readFileSync(join(dir, 'alone', 'report.json'), 'utf8'),
    );
  });

  it('a bag that fails half way stops its nodes (its frame store is closed) and leaves no output bag and no reports', async () => {
    const before = { ...stores };
    const r = await run(opts('gap-out', ['gap'], { outputBag: true }));
    expect(r.rc).to.equal(1);
    expect(stderr).to.match(/^ar1: .*gap: .*log time jumps 7200 s forward/);
    expect(stores.made - before.made).to.equal(1);
    expect(stores.closed - before.closed, 'the store of the failed bag').to.equal(1);
    for (const f of ['report.json', 'compute.json', 'report.html', 'bag/bag_0.mcap', 'bag/metadata.yaml', 'bag'])
      expect(existsSync(join(dir, 'gap-out', f)), f).to.equal(false);
  });

  it('--latency measured with --batch over several bags is refused before anything runs', async () => {
    let error: unknown;
    try {
      await run(opts('measured', ['good', 'culprit'], { batch: '2', latency: 'measured' }));
    } catch (e) {
      error = e;
    }
    expect(error).to.be.instanceOf(UserError);
    expect((error as Error).message).to.match(
      /^--latency measured: not with --batch 2 \(.*\): use --batch 1, or a fixed latency$/,
    );
    expect(existsSync(join(dir, 'measured'))).to.equal(false);
  });
});

describe('cli: ar1 replay output folders', () => {
  it('one per bag, never shared: a second "a" takes the first free a_k, a bag named a_1 keeps its name', () => {
    expect(outputDirs(['x/a', 'y/a.mcap', 'a_1', 'z/a/', 'b'])).to.deep.equal(['a', 'a_2', 'a_1', 'a_3', 'b']);
    expect(outputDirs(['a', 'a'])).to.deep.equal(['a', 'a_1']);
    expect(outputDirs(['/'])).to.deep.equal(['bag']);
  });
});
