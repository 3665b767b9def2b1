/** The bundle's tokenizer.json through @huggingface/tokenizers: special-token ids, prompt encoding, decoding. */
import { Tokenizer } from '@huggingface/tokenizers';
import { BundleError } from '../bundle/manifest.js';
import type { Manifest } from '../bundle/manifest.js';

export interface BundleTokenizer {
  cotStart: number;
  cotEnd: number;
  trajFutureStart: number;
  vocabSize: number;
  /** Ids never sampled while reasoning: the trajectory tokens (upstream masks them to −∞). */
  masked: ReadonlySet<number>;
  /** Text of the ids, special tokens skipped. */
  decode(ids: readonly number[]): string;
  /** Ids of a prompt text part (no special tokens added; special tokens written in the text are recognised). */
  encode(text: string): number[];
  /** Id of one token; BundleError when the vocabulary lacks it. */
  idOf(token: string): number;
}

export function loadTokenizer(json: unknown, manifest: Manifest, where = manifest.tokenizer.file): BundleTokenizer {
  let tok: Tokenizer;
  try {
    tok = new Tokenizer(json as object, {});
  } catch (e) {
    throw new BundleError(`${where}: not a usable tokenizer: ${(e as Error).message}`);
  }
  const idOf = (t: string): number => {
    const i = tok.token_to_id(t);
    if (i === undefined) throw new BundleError(`${where}: token ${t}: not in the vocabulary (named in manifest.yaml)`);
    return i;
  };
  const masked = new Set<number>();
  const tt = manifest.tokenizer.trajectoryTokens;
  if (tt) {
    const first = idOf(tt.first);
    for (let i = 0; i < tt.count; i++) masked.add(first + i);
    if (tok.id_to_token(first + tt.count - 1) === undefined) {
      throw new BundleError(
        `${where}: tokenizer.trajectory_tokens: expected ${tt.count} ids from ${tt.first} (${first}), the vocabulary ends before ${first + tt.count - 1}`,
      );
    }
  }
  for (const t of [manifest.prompt.imageStart, manifest.prompt.imagePad, manifest.prompt.imageEnd]) idOf(t);
  return {
    cotStart: idOf(manifest.tokenizer.cotStart),
    cotEnd: idOf(manifest.tokenizer.cotEnd),
    trajFutureStart: idOf(manifest.tokenizer.trajFutureStart),
    vocabSize: tok.get_vocab(true).size,
    masked,
    decode: (ids) => (ids.length === 0 ? '' : tok.decode([...ids], { skip_special_tokens: true }).trim()),
    encode: (text) => tok.encode(text, { add_special_tokens: false }).ids,
    idOf,
  };
}
