import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import {
  PARAMETER_TYPE,
  flattenParameters,
  rosEnvironmentProblem,
  toRclParameterValue,
  unwrapDefaultExport,
  withFreshTypedArrays,
} from '../../../nodes/adapters/rclnodejs/index.js';
import { parameterSpec } from '../../../nodes/adapters/rclnodejs/parameters.js';
import { AUGMENTATION_PATH, renderAugmentation } from '../../../nodes/adapters/rclnodejs/augmentation.js';

describe('adapters/rclnodejs: withFreshTypedArrays (the publish byteOffset pitfall)', () => {
  it('leaves a message whose typed arrays own their whole buffer as it is (same object)', () => {
    const m = { data: new Uint8Array([1, 2]), poses: [{ c: new Float64Array(36) }], s: 'x' };
    expect(withFreshTypedArrays(m)).to.equal(m);
  });

  it('copies a subarray (byteOffset ≠ 0) and a view over a larger buffer, keeping the bytes and the type', () => {
    const buf = new Float64Array([0, 1, 2, 3]);
    const m = { a: buf.subarray(1, 3), b: new Uint32Array(new ArrayBuffer(16), 0, 2) };
    const out = withFreshTypedArrays(m);
    expect(out.a).to.be.instanceOf(Float64Array);
    expect([...out.a]).to.deep.equal([1, 2]);
    expect(out.a.byteOffset).to.equal(0);
    expect(out.a.buffer.byteLength).to.equal(16);
    expect(out.b.buffer.byteLength).to.equal(8);
    expect(m.a.byteOffset).to.equal(8); // input untouched
  });

  it('copies a pooled Node Buffer into a plain Uint8Array of its own', () => {
    const pooled = Buffer.from('abc');
    expect(pooled.buffer.byteLength).to.be.greaterThan(3); // from the shared pool
    const out = withFreshTypedArrays({ data: pooled });
    expect(Buffer.isBuffer(out.data)).to.equal(false);
    expect(out.data.byteOffset).to.equal(0);
    expect(out.data.buffer.byteLength).to.equal(3);
    expect(Buffer.from(out.data).toString()).to.equal('abc');
  });

  it('copies only along the changed path inside arrays of messages', () => {
    const big = new Uint8Array(8);
    const keep = { x: 1 };
    const m: { list: Array<{ x?: number; d?: Uint8Array }> } = { list: [keep, { d: big.subarray(4) }] };
    const out = withFreshTypedArrays(m);
    expect(out).to.not.equal(m);
    expect(out.list[0]).to.equal(keep);
    expect(out.list[1]!.d!.byteLength).to.equal(4);
    expect(m.list[1]!.d!.byteOffset).to.equal(4);
  });
});

describe('adapters/rclnodejs: parameter values', () => {
  const cases: Array<[unknown, number | undefined, unknown]> = [
    [true, PARAMETER_TYPE.bool, true],
    [3, PARAMETER_TYPE.integer, 3n],
    [-0.25, PARAMETER_TYPE.double, -0.25],
    ['cuda', PARAMETER_TYPE.string, 'cuda'],
    [[true, false], PARAMETER_TYPE.boolArray, [true, false]],
    [[1, 2], PARAMETER_TYPE.integerArray, [1n, 2n]],
    [[1, 2.5], PARAMETER_TYPE.doubleArray, [1, 2.5]],
    [['a'], PARAMETER_TYPE.stringArray, ['a']],
  ];
  for (const [value, type, expected] of cases) {
    it(`${JSON.stringify(value)} → type ${type}`, () => {
      expect(toRclParameterValue(value)).to.deep.equal({ type, value: expected });
    });
  }
  it('says why a value has no ROS parameter type', () => {
    expect(toRclParameterValue([])).to.equal('an empty list has no ROS parameter type');
    expect(toRclParameterValue([1, 'a'])).to.equal('a list mixing types is not a ROS parameter');
    expect(toRclParameterValue(null)).to.equal('a null is not a ROS parameter');
  });
  describe("with the node schema's spec", () => {
    const schema = {
      type: 'object',
      properties: {
        rate_hz: { type: 'number', minimum: 10, maximum: 1000, description: 'Rate [Hz]' },
        window: { type: 'integer', exclusiveMinimum: 0 },
        limits: { type: 'object', properties: { accel: { type: 'array', items: { type: 'number' } } } },
        cameras: { type: 'object', properties: { topics: { type: 'array', items: { type: 'string' } } } },
      },
    };
    it('finds the spec of a dotted name, with description and bounds; none for a name the schema lacks', () => {
      expect(parameterSpec(schema, 'rate_hz')).to.deep.equal({
        type: 'number',
        description: 'Rate [Hz]',
        minimum: 10,
        maximum: 1000,
      });
      expect(parameterSpec(schema, 'window')).to.deep.equal({ type: 'integer', minimum: 0 });
      expect(parameterSpec(schema, 'limits.accel')).to.deep.equal({ type: 'array', items: 'number' });
      expect(parameterSpec(schema, 'limits.nope')).to.equal(undefined);
      expect(parameterSpec(schema, '__proto__')).to.equal(undefined);
      expect(parameterSpec(undefined, 'rate_hz')).to.equal(undefined);
    });
    it('a "number" written 50.0 (read as 50) is DOUBLE; a number array is a DOUBLE array; an integer stays INTEGER', () => {
      expect(toRclParameterValue(50, parameterSpec(schema, 'rate_hz'))).to.deep.equal({
        type: PARAMETER_TYPE.double,
        value: 50,
      });
      expect(toRclParameterValue([2, 2], parameterSpec(schema, 'limits.accel'))).to.deep.equal({
        type: PARAMETER_TYPE.doubleArray,
        value: [2, 2],
      });
      expect(toRclParameterValue(5, parameterSpec(schema, 'window'))).to.deep.equal({
        type: PARAMETER_TYPE.integer,
        value: 5n,
      });
    });
    it('an empty list gets the element type the schema gives', () => {
      expect(toRclParameterValue([], parameterSpec(schema, 'cameras.topics'))).to.deep.equal({
        type: PARAMETER_TYPE.stringArray,
        value: [],
      });
      expect(toRclParameterValue([], parameterSpec(schema, 'limits.accel'))).to.deep.equal({
        type: PARAMETER_TYPE.doubleArray,
        value: [],
      });
    });
  });
  it('flattens nested values to dotted ROS names', () => {
    expect(flattenParameters({ a: 1, b: { c: [1], d: { e: 'x' } } })).to.deep.equal([
      ['a', 1],
      ['b.c', [1]],
      ['b.d.e', 'x'],
    ]);
  });
});

describe('adapters/rclnodejs: loading', () => {
  it('unwraps a default export and passes a namespace without one through', () => {
    const api = { init() {} };
    expect(unwrapDefaultExport({ default: api })).to.equal(api);
    expect(unwrapDefaultExport(api)).to.equal(api);
  });
  it('says how to set up ROS 2 when it is not sourced', () => {
    expect(rosEnvironmentProblem({ AMENT_PREFIX_PATH: '/opt/ros/jazzy', ROS_DISTRO: 'jazzy' })).to.equal(undefined);
    const problem = rosEnvironmentProblem({ ROS_DISTRO: 'jazzy' });
    expect(problem).to.match(/ROS 2 is not sourced/);
    expect(problem).to.match(/source \/opt\/ros\/jazzy\/setup\.bash/);
    expect(problem).to.match(/ros\/scripts\/prepare_rclnodejs\.sh \./);
    expect(problem, 'never the npm rebuild that deletes a working addon').to.not.match(/npm rebuild/);
  });
});

describe('types/rclnodejs-augment.d.ts', () => {
  it('is what nodes/adapters/rclnodejs/augmentation.ts renders from msgFields.ts (regenerate if this fails)', () => {
    const onDisk = readFileSync(AUGMENTATION_PATH, 'utf8');
    expect(onDisk, 'run: node --import tsx nodes/adapters/rclnodejs/augmentation.ts').to.equal(renderAugmentation());
  });
  it('declares every message type with its constants', () => {
    const text = renderAugmentation();
    expect(text).to.include("'ar1_msgs/msg/UnicycleCommand': ar1_msgs.msg.UnicycleCommand,");
    expect(text).to.include('readonly SOURCE_FALLBACK: number; // 1');
    expect(text).to.include('data: number[] | Uint8Array;');
    expect(text).to.include('covariance: number[] | Float64Array;');
    expect(text).to.include('points: ar1_msgs.msg.TrajectoryPoint[];');
  });
});
