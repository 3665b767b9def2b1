/**
 * The prompt as the upstream processor builds it, from the manifest's template: text parts tokenised, every camera
 * image as start + pad×(rows·cols) + end, the 48 history tokens in place. Then the 3-axis rotary positions
 * (temporal, height, width) as Qwen3-VL computes them: text advances all three axes together; an image's pad tokens
 * get (start, start + row, start + col), and the text after an image resumes at start + max(rows, cols). The
 * rotary delta (last position + 1 − length) places every later token: generated token at index i → i + delta on
 * all three axes; the expert's 64 tokens after a stop at index e → e + 1 + delta + k.
 */
import type { Manifest } from '../bundle/manifest.js';

export interface Prompt {
  ids: number[];
  /** [3, length] row-major: temporal, height, width positions. */
  positions: number[];
  /** Rotary delta: (max position + 1) − length. */
  ropeDelta: number;
}

export interface PromptTokenizer {
  encode(text: string): number[];
  idOf(token: string): number;
}

export function buildPrompt(m: Manifest, tok: PromptTokenizer, historyIds: ArrayLike<number>, images: number): Prompt {
  const [rows, cols] = m.vision.grid;
  const ids: number[] = [];
  const t: number[] = [],
    h: number[] = [],
    w: number[] = [];
  let next = 0; // next text position
  const text = (list: readonly number[]) => {
    for (const id of list) {
      ids.push(id);
      t.push(next);
      h.push(next);
      w.push(next);
      next++;
    }
  };
  const start = tok.idOf(m.prompt.imageStart),
    pad = tok.idOf(m.prompt.imagePad),
    end = tok.idOf(m.prompt.imageEnd);
  for (const part of m.prompt.template) {
    if ('text' in part) text(tok.encode(part.text));
    else if ('history' in part) text(Array.from(historyIds));
    else {
      for (let n = 0; n < images; n++) {
        text([start]);
        const base = next;
        for (let r = 0; r < rows; r++) {
          for (let c = 0; c < cols; c++) {
            ids.push(pad);
            t.push(base);
            h.push(base + r);
            w.push(base + c);
          }
        }
        next = base + Math.max(rows, cols);
        text([end]);
      }
    }
  }
  return { ids, positions: [...t, ...h, ...w], ropeDelta: next - ids.length };
}

/** Positions [3, batch, 1] of the token at sequence index `index` for every sample (same index in lockstep). */
export function decodePositions(index: number, ropeDelta: number, batch: number): number[] {
  return new Array<number>(3 * batch).fill(index + ropeDelta);
}

/**
 * Positions [3, batch, steps] of the expert's action tokens: sample s stopped so that its first action token sits
 * at sequence index offsets[s] (one after <|traj_future_start|>, or after the last token at the bound).
 */
export function expertPositions(offsets: readonly number[], ropeDelta: number, steps: number): number[] {
  const out: number[] = [];
  for (let axis = 0; axis < 3; axis++)
    for (const o of offsets) for (let k = 0; k < steps; k++) out.push(o + ropeDelta + k);
  return out;
}
