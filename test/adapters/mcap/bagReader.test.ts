import { expect } from 'chai';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { McapIndexedReader, TempBuffer } from '@mcap/core';
import { MessageWriter } from '@foxglove/rosmsg2-serialization';
import { parse } from '@foxglove/rosmsg';
import { BagError, openBag } from '../../../nodes/adapters/mcap/index.js';
import type { BagMessage, BagReader } from '../../../nodes/adapters/mcap/index.js';
import { rawMcap, rawMetadata, ROSBAG2_BAGS, tempDir, writeChatterBag } from './fixtures.js';

async function readAll(bag: BagReader, opts: Parameters<BagReader['messages']>[0] = {}): Promise<BagMessage[]> {
  const out: BagMessage[] = [];
  for await (const m of bag.messages(opts)) out.push(m);
  return out;
}

async function withBag<T>(path: string, fn: (bag: BagReader) => Promise<T>): Promise<T> {
  const bag = await openBag(path);
  try {
    return await fn(bag);
  } finally {
    await bag.close();
  }
}

describe('adapters/mcap openBag on real rosbag2 bags', function () {
  for (const name of ['talker', 'cdr_test', 'wbag']) {
    it(`${name}: topics, types and counts computed from the MCAP agree with metadata.yaml`, async () => {
      const meta = rawMetadata(name);
      await withBag(join(ROSBAG2_BAGS, name), async (bag) => {
        const info = await bag.info();
        const got = info.topics.map((t) => ({ name: t.topic, type: t.type, count: t.messageCount }));
        const byName = (a: { name: string }, b: { name: string }): number => a.name.localeCompare(b.name);
        expect(got.sort(byName)).to.deep.equal([...meta.topics].sort(byName));
        expect(info.messageCount).to.equal(meta.count);
        expect(info.topics.every((t) => t.serializationFormat === 'cdr')).to.equal(true);
        // the counts must really be in the file: read every message
        expect((await readAll(bag)).length).to.equal(meta.count);
      });
    });
  }

  for (const name of ['talker', 'cdr_test']) {
    it(`${name}: start and duration agree with metadata.yaml, no problem reported`, async () => {
      const meta = rawMetadata(name);
      await withBag(join(ROSBAG2_BAGS, name), async (bag) => {
        const info = await bag.info();
        expect(info.startNs).to.equal(meta.start);
        expect(info.durationNs).to.equal(meta.duration);
        expect(info.endNs! - info.startNs!).to.equal(meta.duration);
        expect(info.problems).to.deep.equal([]);
      });
    });
  }

  it('wbag: metadata.yaml start/duration are stale (rosbag2 split bug); the reader reports the disagreement', async () => {
    const meta = rawMetadata('wbag');
    await withBag(join(ROSBAG2_BAGS, 'wbag'), async (bag) => {
      const info = await bag.info();
      const msgs = await readAll(bag);
      expect(info.startNs).to.equal(msgs[0]!.logTimeNs);
      expect(info.endNs).to.equal(msgs[msgs.length - 1]!.logTimeNs);
      expect(meta.start).to.equal(2623n); // the last file's start, not the bag's
      expect(info.problems).to.deep.equal([
        `metadata.yaml says start 2623 ns, duration 411 ns; the files hold start ${info.startNs} ns, duration ${info.durationNs} ns`,
      ]);
    });
  });

  it('cdr_test: decodes test_msgs types with the definitions embedded in the file', async () => {
    await withBag(join(ROSBAG2_BAGS, 'cdr_test'), async (bag) => {
      const msgs = await readAll(bag, { decode: true });
      const basic = msgs.filter((m) => m.topic === '/test_topic').map((m) => m.message as Record<string, unknown>);
      expect(basic).to.have.length(3);
      expect(basic[0]).to.include({ int32_value: 123, bool_value: false });
      expect(basic[0]!['int64_value']).to.equal(0n);
      const arrays = msgs.filter((m) => m.topic === '/array_topic').map((m) => m.message as Record<string, unknown>);
      expect(arrays).to.have.length(4);
      expect(arrays[0]!['bool_values']).to.deep.equal([true, false, true]);
      expect(arrays[0]!['string_values']).to.be.an('array').with.length(3);
      expect(bag.definitionSources().get('/test_topic')).to.equal('embedded');
    });
  });

  it('talker: reads zstd chunks and decodes String and Log', async () => {
    await withBag(join(ROSBAG2_BAGS, 'talker'), async (bag) => {
      expect((await bag.info()).compression).to.deep.equal(['zstd']);
      const msgs = await readAll(bag, { topics: ['/topic'], decode: true });
      expect(msgs.map((m) => (m.message as { data: string }).data)).to.deep.equal(
        Array.from({ length: 10 }, (_, i) => `Hello, world! ${i}`),
      );
      const logs = await readAll(bag, { topics: ['/rosout'], decode: true });
      expect((logs[0]!.message as { name: string }).name).to.equal('minimal_publisher');
    });
  });

  it('decodes only the topics asked for', async () => {
    await withBag(join(ROSBAG2_BAGS, 'talker'), async (bag) => {
      const msgs = await readAll(bag, { decode: ['/topic'] });
      expect(msgs.filter((m) => m.topic === '/topic').every((m) => m.message !== undefined)).to.equal(true);
      expect(msgs.filter((m) => m.topic === '/rosout').every((m) => m.message === undefined)).to.equal(true);
      expect(msgs).to.have.length(20);
    });
  });

  it('wbag: the five split files are merged in log-time order, by metadata.yaml file order', async () => {
    await withBag(join(ROSBAG2_BAGS, 'wbag'), async (bag) => {
      expect(bag.files.map((f) => f.split('/').pop())).to.deep.equal([
        'wbag_0.mcap',
        'wbag_1.mcap',
        'wbag_2.mcap',
        'wbag_3.mcap',
        'wbag_4.mcap',
      ]);
      const msgs = await readAll(bag, { decode: true });
      for (let i = 1; i < msgs.length; i++) expect(msgs[i]!.logTimeNs >= msgs[i - 1]!.logTimeNs).to.equal(true);
      expect((msgs[0]!.message as { data: string }).data).to.match(/^Hello, world! 0/);
    });
  });

  it('a directory of split files without metadata.yaml: all *.mcap, sorted, merged', async () => {
    const { dir, cleanup } = tempDir('nometa');
    try {
      for (const f of readdirSync(join(ROSBAG2_BAGS, 'wbag'))
        .filter((f) => f.endsWith('.mcap'))
        .reverse()) {
        copyFileSync(join(ROSBAG2_BAGS, 'wbag', f), join(dir, f));
      }
      await withBag(dir, async (bag) => {
        expect(bag.files.map((f) => f.split('/').pop())).to.deep.equal([
          'wbag_0.mcap',
          'wbag_1.mcap',
          'wbag_2.mcap',
          'wbag_3.mcap',
          'wbag_4.mcap',
        ]);
        const info = await bag.info();
        expect(info.messageCount).to.equal(6074);
        expect(info.metadata).to.equal(undefined);
        const msgs = await readAll(bag, { topics: ['AAA'] });
        expect(msgs).to.have.length(804);
      });
    } finally {
      cleanup();
    }
  });

  it('a bare .mcap file opens on its own', async () => {
    await withBag(join(ROSBAG2_BAGS, 'talker', 'talker.mcap'), async (bag) => {
      expect((await bag.info()).messageCount).to.equal(20);
    });
  });

  it('a split bag with one file cut inside its zstd chunk: the other files are read, the cut file is named', async () => {
    const { dir, cleanup } = tempDir('trunc-zstd');
    try {
      for (const f of readdirSync(join(ROSBAG2_BAGS, 'wbag')))
        copyFileSync(join(ROSBAG2_BAGS, 'wbag', f), join(dir, f));
      const src = readFileSync(join(dir, 'wbag_2.mcap'));
      const ix = await McapIndexedReader.Initialize({ readable: new TempBuffer(src) });
      const chunk = ix.chunkIndexes[0]!;
      const cut = Number(chunk.chunkStartOffset + chunk.chunkLength / 2n);
      writeFileSync(join(dir, 'wbag_2.mcap'), src.subarray(0, cut));
      await withBag(dir, async (bag) => {
        const info = await bag.info();
        const f = info.files[2]!;
        expect(f.mode).to.equal('stream');
        expect(f.truncation).to.deep.include({
          fileBytes: cut,
          lostBytes: cut - Number(chunk.chunkStartOffset),
          messagesRead: 0,
          messagesLostAtLeast: 1,
          messagesSalvaged: 0,
        });
        expect(info.problems).to.include(
          `${join(dir, 'wbag_2.mcap')}: truncated: last ${cut - Number(chunk.chunkStartOffset)} of ${cut} ` +
            'bytes are an incomplete record; 0 complete messages read, at least 1 lost',
        );
        expect(info.messageCount).to.equal(6074 - 1240);
        const msgs = await readAll(bag, { decode: true });
        expect(msgs.length).to.equal(6074 - 1240);
        for (let i = 1; i < msgs.length; i++) expect(msgs[i]!.logTimeNs >= msgs[i - 1]!.logTimeNs).to.equal(true);
      });
    } finally {
      cleanup();
    }
  });
});

describe('adapters/mcap openBag on generated bags', () => {
  it('a truncated uncompressed bag: every complete message, including those inside the cut chunk', async () => {
    const { dir, cleanup } = tempDir('trunc');
    try {
      const file = await writeChatterBag(join(dir, 'bag'), 300);
      const src = readFileSync(file);
      const ix = await McapIndexedReader.Initialize({ readable: new TempBuffer(src) });
      const chunks = [...ix.chunkIndexes].sort((a, b) => Number(a.chunkStartOffset - b.chunkStartOffset));
      const k = 7;
      const cutChunk = chunks[k]!;
      const cut = Number(cutChunk.chunkStartOffset + cutChunk.chunkLength / 2n);
      let beforeChunk = 0;
      let upToChunk = 0;
      for await (const m of ix.readMessages()) {
        if (m.logTime < cutChunk.messageStartTime) beforeChunk += 1;
        if (m.logTime <= cutChunk.messageEndTime) upToChunk += 1;
      }
      writeFileSync(file, src.subarray(0, cut));
      await withBag(join(dir, 'bag'), async (bag) => {
        const info = await bag.info();
        const t = info.files[0]!.truncation!;
        const msgs = await readAll(bag, { decode: true });
        msgs.forEach((m, i) => expect((m.message as { data: string }).data.startsWith(`hello ${i} `)).to.equal(true));
        expect(msgs.length).to.equal(t.messagesRead);
        expect(t.messagesSalvaged).to.equal(msgs.length - beforeChunk);
        expect(msgs.length).to.be.greaterThan(beforeChunk).and.lessThan(upToChunk);
        expect(t.messagesLostAtLeast).to.equal(1);
        expect(t.lostBytes).to.equal(cut - Number(cutChunk.chunkStartOffset));
        // metadata.yaml lists 300 messages in this file: the exact loss
        expect(t.messagesLost).to.equal(300 - msgs.length);
        expect(info.problems).to.include(`metadata.yaml says 300 messages on /chatter, the files hold ${msgs.length}`);
      });
    } finally {
      cleanup();
    }
  });

  it('a corrupt chunk (CRC mismatch): messages before it are delivered, then an error names file and offset', async () => {
    const { dir, cleanup } = tempDir('corrupt');
    try {
      const file = await writeChatterBag(join(dir, 'bag'), 200);
      const bytes = readFileSync(file);
      const ix = await McapIndexedReader.Initialize({ readable: new TempBuffer(bytes) });
      const chunks = [...ix.chunkIndexes].sort((a, b) => Number(a.chunkStartOffset - b.chunkStartOffset));
      expect(chunks.length).to.be.greaterThan(4);
      const bad = chunks[3]!;
      let before = 0;
      for await (const m of ix.readMessages()) if (m.logTime < bad.messageStartTime) before += 1;
      const at = Number(bad.chunkStartOffset + bad.chunkLength) - 100; // inside the records, not the header
      bytes[at] = bytes[at]! ^ 0xff;
      writeFileSync(file, bytes);
      await withBag(join(dir, 'bag'), async (bag) => {
        const got: BagMessage[] = [];
        let error: unknown;
        try {
          for await (const m of bag.messages({ decode: true })) got.push(m);
        } catch (e) {
          error = e;
        }
        expect(error).to.be.instanceOf(BagError);
        expect((error as Error).message).to.match(
          new RegExp(
            `bag_0\\.mcap: corrupt chunk at offset ${bad.chunkStartOffset} .*Incorrect chunk CRC.*; ${before} messages before it were delivered`,
          ),
        );
        expect(got.length).to.equal(before);
        expect(before).to.be.greaterThan(0);
      });
    } finally {
      cleanup();
    }
  });

  it('an unknown type without a definition: error naming topic and type, only when that topic is decoded', async () => {
    const { dir, cleanup } = tempDir('unknown');
    try {
      writeFileSync(
        join(dir, 'u.mcap'),
        await rawMcap({
          schemaName: 'foo_msgs/msg/Bar',
          schemaText: '',
          topic: '/foo',
          payloads: [new Uint8Array([0, 1, 0, 0, 1, 0, 0, 0])],
        }),
      );
      await withBag(join(dir, 'u.mcap'), async (bag) => {
        expect(await readAll(bag)).to.have.length(1); // raw bytes are fine
        let error: unknown;
        try {
          await readAll(bag, { decode: true });
        } catch (e) {
          error = e;
        }
        expect(error).to.be.instanceOf(BagError);
        expect((error as Error).message).to.match(
          /^topic \/foo: no usable message definition for type foo_msgs\/msg\/Bar \(empty schema text; not a bundled type\) \[file=.*u\.mcap\]$/,
        );
      });
    } finally {
      cleanup();
    }
  });

  it('an empty or broken embedded definition of a bundled type falls back to the bundled one', async () => {
    const { dir, cleanup } = tempDir('fallback');
    try {
      const cdr = new MessageWriter(parse('string data', { ros2: true })).writeMessage({ data: 'hi' });
      writeFileSync(
        join(dir, 'a.mcap'),
        await rawMcap({ schemaName: 'std_msgs/msg/String', schemaText: '', topic: '/a', payloads: [cdr] }),
      );
      writeFileSync(
        join(dir, 'b.mcap'),
        await rawMcap({ schemaName: 'std_msgs/msg/String', schemaText: 'strin data\n', topic: '/b', payloads: [cdr] }),
      );
      // a wrong embedded definition that decodes but leaves bytes unread (like rosbag2's fake talker.db3 definitions)
      writeFileSync(
        join(dir, 'c.mcap'),
        await rawMcap({ schemaName: 'std_msgs/msg/String', schemaText: 'uint8 level\n', topic: '/c', payloads: [cdr] }),
      );
      for (const [f, topic] of [
        ['a.mcap', '/a'],
        ['b.mcap', '/b'],
        ['c.mcap', '/c'],
      ] as const) {
        await withBag(join(dir, f), async (bag) => {
          const [m] = await readAll(bag, { decode: true });
          expect(m!.message).to.deep.equal({ data: 'hi' });
          expect(bag.definitionSources().get(topic)).to.equal('bundled');
        });
      }
    } finally {
      cleanup();
    }
  });

  it('an unchunked file (rosbag2 fastwrite) is read sequentially', async () => {
    const { dir, cleanup } = tempDir('unchunked');
    try {
      const enc = new MessageWriter(parse('string data', { ros2: true }));
      const payloads = Array.from({ length: 5 }, (_, i) => enc.writeMessage({ data: `m${i}` }));
      writeFileSync(
        join(dir, 'f.mcap'),
        await rawMcap({
          schemaName: 'std_msgs/msg/String',
          schemaText: 'string data\n',
          topic: '/s',
          payloads,
          chunked: false,
        }),
      );
      await withBag(join(dir, 'f.mcap'), async (bag) => {
        const info = await bag.info();
        expect(info.files[0]!.mode).to.equal('stream');
        expect(info.messageCount).to.equal(5);
        expect(info.problems).to.deep.equal([]);
        expect((await readAll(bag, { decode: true })).map((m) => (m.message as { data: string }).data)).to.deep.equal([
          'm0',
          'm1',
          'm2',
          'm3',
          'm4',
        ]);
      });
    } finally {
      cleanup();
    }
  });

  it('asking for a topic the bag lacks names it and the topics that exist', async () => {
    const { dir, cleanup } = tempDir('missing');
    try {
      await writeChatterBag(join(dir, 'bag'), 3);
      await withBag(join(dir, 'bag'), async (bag) => {
        let error: unknown;
        try {
          await readAll(bag, { topics: ['/odom', '/chatter'] });
        } catch (e) {
          error = e;
        }
        expect((error as Error).message).to.match(/: no topic \/odom in the bag \(topics: \/chatter\)$/);
      });
    } finally {
      cleanup();
    }
  });

  it('bad paths: missing, not MCAP, empty directory, metadata.yaml naming a missing file', async () => {
    const { dir, cleanup } = tempDir('bad');
    try {
      writeFileSync(join(dir, 'x.mcap'), 'hello world');
      mkdirSync(join(dir, 'empty'));
      mkdirSync(join(dir, 'meta'));
      writeFileSync(
        join(dir, 'meta', 'metadata.yaml'),
        'rosbag2_bagfile_information:\n  version: 5\n  storage_identifier: mcap\n' +
          '  duration: {nanoseconds: 0}\n  starting_time: {nanoseconds_since_epoch: 0}\n  message_count: 0\n  relative_file_paths: [gone_0.mcap]\n',
      );
      const cases: Array<[string, RegExp]> = [
        [join(dir, 'nope'), /nope: no such file or directory \(expected a \.mcap file or a rosbag2 directory\)$/],
        [
          join(dir, 'x.mcap'),
          /x\.mcap: not an MCAP file \(expected magic 89 4d 43 41 50 30 0d 0a, found 68 65 6c 6c 6f 20 77 6f\)$/,
        ],
        [
          join(dir, 'empty'),
          /empty: not a bag \(expected metadata\.yaml or \.mcap files in the directory, found neither\)$/,
        ],
        [join(dir, 'meta'), /metadata\.yaml: relative_file_paths: gone_0\.mcap: no such file in /],
      ];
      for (const [p, re] of cases) {
        let error: unknown;
        try {
          await openBag(p);
        } catch (e) {
          error = e;
        }
        expect(error, p).to.be.instanceOf(BagError);
        expect((error as Error).message).to.match(re);
      }
    } finally {
      cleanup();
    }
  });
});
