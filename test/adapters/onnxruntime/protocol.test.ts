import { expect } from 'chai';
import type { CameraFrame, FrameEncoding } from '../../../nodes/core/planningEngine.js';
import { FRAME_FIELDS, frameRef, writeFrameRow } from '../../../nodes/adapters/onnxruntime/protocol.js';

const frame = (encoding: FrameEncoding, stampS: number, bytes: number): CameraFrame => ({
  camera: 'cam_front',
  stampS,
  encoding,
  width: 1920,
  height: 1080,
  step: encoding === 'jpeg' || encoding === 'png' ? 0 : 5760,
  data: new Uint8Array(bytes),
});

describe('onnxruntime protocol: a plan’s frame table', () => {
  it('every encoding, ring and pool frames: what the worker reads back is what the main thread wrote', () => {
    const encodings: FrameEncoding[] = ['rgb8', 'bgr8', 'rgba8', 'bgra8', 'mono8', 'jpeg', 'png'];
    const table = new Float64Array(encodings.length * 2 * FRAME_FIELDS);
    encodings.forEach((e, k) => {
      writeFrameRow(table, 2 * k, 40 + k, 0, frame(e, 1.1 + k, 100 + k), 7 + k); // a ring slot's 7+k-th write
      writeFrameRow(table, 2 * k + 1, 3, 4096 * k, frame(e, 0.1 + 0.2 * k, 200 + k), -1 - k); // copied into pool slot 3, bytes id k
    });
    encodings.forEach((e, k) => {
      const step = e === 'jpeg' || e === 'png' ? 0 : 5760;
      expect(frameRef(table, 2 * k, 'cam_front')).to.deep.equal({
        slot: 40 + k,
        offset: 0,
        length: 100 + k,
        encoding: e,
        width: 1920,
        height: 1080,
        step,
        key: `${40 + k}.${7 + k}`,
      });
      // A copied frame is named by camera, stamp (exactly as the frame had it) and the id of its source bytes.
      expect(frameRef(table, 2 * k + 1, 'cam_front')).to.deep.equal({
        slot: 3,
        offset: 4096 * k,
        length: 200 + k,
        encoding: e,
        width: 1920,
        height: 1080,
        step,
        key: `cam_front@${0.1 + 0.2 * k}#${k}`,
      });
    });
  });
});
