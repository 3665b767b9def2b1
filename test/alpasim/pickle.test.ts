import { expect } from 'chai';
import fc from 'fast-check';
import { Parser } from 'pickleparser';
import { pickleDumps, type PickleValue } from '../../nodes/alpasim/pickle.js';

const loads = (b: Buffer): unknown => new Parser().parse(b);

describe('alpasim/pickle: the debug-info dict as Python pickle protocol 2', () => {
  it('writes protocol 2 opcodes: PROTO 2, EMPTY_DICT, MARK, BINUNICODE/BININT/NONE items, SETITEMS, STOP', () => {
    // Python's own dumps adds memo opcodes and uses BININT1 for small ints; its loads reads both forms
    // (this exact byte string was checked with pickle.loads on CPython 3.11: {'a': 1, 'b': None}).
    expect(pickleDumps({ a: 1, b: null }).toString('hex')).to.equal(
      '80027d28' + '580100000061' + '4a01000000' + '580100000062' + '4e' + '752e',
    );
  });

  it('round-trips the values the driver sends (str with any unicode, int of any size, float, bool, None, list, dict)', () => {
    const value = {
      reasoning_text: 'Slow down: a pedestrian — crossing ahead 🚶',
      num_frames: { cam_a: 4, cam_b: 0 },
      big: 1700000000123456,
      neg: -5,
      f: 0.1,
      ok: true,
      no: false,
      none: null,
      list: [1, 'x', [2.5]],
    };
    expect(loads(pickleDumps(value))).to.deep.equal(value);
  });

  it("integers beyond 32 bits as LONG1 two's complement, little-endian", () => {
    // Checked with CPython 3.11 pickle.loads: -2147483649 and 2**40. (pickleparser reads negative LONG1 as unsigned.)
    expect(pickleDumps(-2147483649).toString('hex')).to.equal('8002' + '8a05ffffff7fff' + '2e');
    expect(pickleDumps(2 ** 40).toString('hex')).to.equal('8002' + '8a06000000000001' + '2e'); // what Python writes too
    expect(loads(pickleDumps(2 ** 40))).to.equal(2 ** 40);
  });

  it('any JSON-like value round-trips (property, 500 runs)', () => {
    const leaf = fc.oneof(
      fc.string(),
      fc.integer(),
      fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
      fc.double({ noNaN: true, noDefaultInfinity: true }).filter((d) => !Number.isInteger(d)),
      fc.boolean(),
      fc.constant(null),
    );
    const { tree } = fc.letrec((tie) => ({
      // "__proto__" is left out of the keys: pickleparser, the reader this test uses, builds dicts by plain assignment,
      // so such a key becomes the object's prototype on its side (the bytes we write are checked above).
      tree: fc.oneof(
        { depthSize: 'small' },
        leaf,
        fc.array(tie('tree'), { maxLength: 4 }),
        fc.dictionary(
          fc.string().filter((k) => k !== '__proto__'),
          tie('tree'),
          { maxKeys: 4 },
        ),
      ),
    }));
    fc.assert(
      fc.property(tree, (v) => {
        expect(loads(pickleDumps(v as PickleValue))).to.deep.equal(v);
      }),
      { numRuns: 500, seed: Number(process.env['FUZZ_SEED'] ?? 1) },
    );
  });
});
