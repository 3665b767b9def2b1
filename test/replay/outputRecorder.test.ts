import { expect } from 'chai';
import { InProcessBus } from '../../nodes/adapters/inprocess/bus.js';
import { SteppingScheduler } from '../../nodes/adapters/inprocess/virtualScheduler.js';
import type { BagWriter, WrittenBag } from '../../nodes/adapters/mcap/index.js';
import { OutputRecorder } from '../../nodes/replay/outputRecorder.js';

/** A bag writer that remembers what it was asked to write, each write finishing a turn later. */
function fakeWriter(failOn?: string): { writer: BagWriter; calls: string[]; closed: () => boolean } {
  const calls: string[] = [];
  let closed = false;
  const later = () => new Promise<void>((r) => setImmediate(r));
  const writer: BagWriter = {
    dir: '/nowhere',
    file: '/nowhere/bag_0.mcap',
    async addTopic(topic, type) {
      calls.push(`topic ${topic} ${type}`);
      await later();
    },
    async write(topic, timeNs, message) {
      await later();
      if ((message as { data?: string }).data === failOn) throw new Error(`cannot encode ${failOn}`);
      calls.push(`write ${topic} ${timeNs} ${(message as { data: string }).data}`);
    },
    writeRaw: () => Promise.reject(new Error('not used')),
    close() {
      closed = true;
      return Promise.resolve({ file: '/nowhere/bag_0.mcap' } as WrittenBag);
    },
  };
  return { writer, calls, closed: () => closed };
}

describe('replay/outputRecorder: the output bag, in publication order', () => {
  it('writes every message but the skipped topics, in order, each topic declared before its first message', async () => {
    const scheduler = new SteppingScheduler(1000);
    const bus = new InProcessBus(scheduler);
    const { writer, calls, closed } = fakeWriter();
    const recorder = new OutputRecorder(bus, writer, new Set(['/camera']));
    bus.publish('/a', 'std_msgs/msg/String', { data: 'a1' }, 'test');
    bus.publish('/camera', 'std_msgs/msg/String', { data: 'image' }, 'test');
    await scheduler.advanceTo(1000.5);
    bus.publish('/b', 'std_msgs/msg/String', { data: 'b1' }, 'test');
    bus.publish('/a', 'std_msgs/msg/String', { data: 'a2' }, 'test');
    expect(recorder.recorded).to.equal(4 - 1);
    expect(recorder.backlog).to.be.greaterThan(0);
    await recorder.drain();
    expect(recorder.backlog).to.equal(0);
    await recorder.close();
    expect(closed()).to.equal(true);
    expect(calls).to.deep.equal([
      'topic /a std_msgs/msg/String',
      'write /a 1000000000 a1',
      'topic /b std_msgs/msg/String',
      'write /b 1000500000 b1',
      'write /a 1000500000 a2',
    ]);
  });

  it('records nothing after stop()', async () => {
    const bus = new InProcessBus(new SteppingScheduler(0));
    const { writer, calls } = fakeWriter();
    const recorder = new OutputRecorder(bus, writer, new Set());
    bus.publish('/a', 'std_msgs/msg/String', { data: 'kept' }, 'test');
    recorder.stop();
    bus.publish('/a', 'std_msgs/msg/String', { data: 'after stop' }, 'test');
    await recorder.close();
    expect(calls).to.deep.equal(['topic /a std_msgs/msg/String', 'write /a 0 kept']);
  });

  it('keeps the first write error, writes nothing after it, and close() throws it without closing the bag', async () => {
    const bus = new InProcessBus(new SteppingScheduler(0));
    const { writer, calls, closed } = fakeWriter('bad');
    const recorder = new OutputRecorder(bus, writer, new Set());
    for (const data of ['ok', 'bad', 'later']) bus.publish('/a', 'std_msgs/msg/String', { data }, 'test');
    let error: unknown;
    try {
      await recorder.close();
    } catch (e) {
      error = e;
    }
    expect((error as Error).message).to.equal('cannot encode bad');
    expect(closed()).to.equal(false);
    expect(calls).to.deep.equal(['topic /a std_msgs/msg/String', 'write /a 0 ok']);
  });
});
