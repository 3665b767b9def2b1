import { expect } from 'chai';
import { EngineError } from '../../nodes/core/planningEngine.js';
import type { CameraFrame, EngineContract, PlanInput } from '../../nodes/core/planningEngine.js';
import { validatePlanInput, type CheckedFrames } from '../../nodes/ar1/planInput.js';

const W = 8;
const H = 4;
const contract: EngineContract = {
  bundleId: 'test@1',
  cameras: ['cam_a', 'cam_b'],
  framesPerCamera: 2,
  frameSpacingS: 0.1,
  imageWidth: W,
  imageHeight: H,
  historySteps: 3,
  historyDtS: 0.1,
  trajectorySteps: 4,
  trajectoryDtS: 0.1,
};
const frame = (camera: string, k: number): CameraFrame => ({
  camera,
  stampS: 1 + 0.1 * k,
  encoding: 'rgb8',
  width: W,
  height: H,
  step: W * 3,
  data: new Uint8Array(W * H * 3),
});
const input = (): PlanInput => ({
  t0S: 1.1,
  seed: 0,
  frames: contract.cameras.map((c) => [frame(c, 0), frame(c, 1)]),
  history: {
    x: new Float64Array(3),
    y: new Float64Array(3),
    z: new Float64Array(3),
    yaw: new Float64Array(3),
    dt: 0.1,
  },
});
/** The EngineError('input') message validatePlanInput gives for an input whose frame cam_b[1] is replaced. */
const refusal = (bad: unknown): string => {
  const i = input();
  (i.frames[1] as unknown[])[1] = bad;
  try {
    validatePlanInput(i, contract);
  } catch (e) {
    expect(e).to.be.instanceOf(EngineError);
    expect((e as EngineError).kind).to.equal('input');
    return (e as Error).message;
  }
  throw new Error('expected a refusal');
};

describe('ar1/planInput: a plan input against the bundle contract', () => {
  it('a valid input passes', () => {
    expect(() => validatePlanInput(input(), contract)).not.to.throw();
  });

  it('hostile frames are refused with EngineError(input) naming the frame, never a TypeError', () => {
    expect(refusal(null)).to.match(/^cam_b\[1\]: expected a frame, got null \[bundle=test@1/);
    expect(refusal(7)).to.match(/^cam_b\[1\]: expected a frame, got number/);
    // Names every object has are not encodings.
    expect(refusal({ ...frame('cam_b', 1), encoding: 'toString' })).to.match(
      /encoding: expected one of rgb8, .*got "toString"/,
    );
    expect(refusal({ ...frame('cam_b', 1), encoding: 'constructor' })).to.match(/got "constructor"/);
    // A step, width or height that is not a whole number would make the preprocessor copy nothing, silently.
    expect(refusal({ ...frame('cam_b', 1), step: Number.NaN })).to.match(
      /cam_b\[1\]: step: expected a whole number ≥ 0, got NaN/,
    );
    expect(refusal({ ...frame('cam_b', 1), step: undefined })).to.match(
      /step: expected a whole number ≥ 0, got undefined/,
    );
    expect(refusal({ ...frame('cam_b', 1), step: W * 3 + 0.5 })).to.match(
      /step: expected a whole number ≥ 0, got 24.5/,
    );
    expect(refusal({ ...frame('cam_b', 1), width: -1 })).to.match(/width: expected a whole number ≥ 0, got -1/);
  });

  it('frames named checked skip their checks but the camera one; each frame that passes is added', () => {
    const i = input();
    const bad = { ...frame('cam_a', 0), width: 999 }; // would be refused if checked
    i.frames[0]![0] = bad;
    const added: CameraFrame[] = [];
    const known: CheckedFrames = { has: (f) => f === bad, add: (f) => added.push(f) };
    expect(() => validatePlanInput(i, contract, known)).not.to.throw();
    expect(added).to.deep.equal([i.frames[0]![1], ...i.frames[1]!]);
    // A checked frame in another camera's list is still refused.
    const swapped = input();
    swapped.frames[1]![0] = bad;
    expect(() => validatePlanInput(swapped, contract, known)).to.throw(
      EngineError,
      /cam_b\[0\]: expected a frame of cam_b, got one of cam_a/,
    );
  });
});
