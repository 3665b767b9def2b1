/** The bundle's tokenizer.json through @huggingface/tokenizers: special-token ids, decoding of generated ids. */
import { Tokenizer } from '@huggingface/tokenizers';
import { BundleError } from './manifest.js';
import type { Manifest } from './manifest.js';

export interface BundleTokenizer {
  cotStart: number;
  cotEnd: number;
  trajFutureStart: number;
  vocabSize: number;
  /** Ids never sampled (unknown token, reasoning start). */
  masked: ReadonlySet<number>;
  /** Text of the ids, special tokens skipped. */
  decode(ids: readonly number[]): string;
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
    if (i === undefined) throw new BundleError(`${where}: special token ${t}: not in the vocabulary`);
    return i;
  };
  const masked = new Set<number>([idOf(manifest.tokenizer.cotStart)]);
  const unk = (json as { model?: { unk_token?: string } }).model?.unk_token;
  if (unk !== undefined) {
    const u = tok.token_to_id(unk);
    if (u !== undefined) masked.add(u);
  }
  return {
    cotStart: idOf(manifest.tokenizer.cotStart),
    cotEnd: idOf(manifest.tokenizer.cotEnd),
    trajFutureStart: idOf(manifest.tokenizer.trajFutureStart),
    vocabSize: tok.get_vocab(true).size,
    masked,
    decode: (ids) => tok.decode([...ids], { skip_special_tokens: true }).trim(),
  };
}
