/** Test helpers for bundle files. */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { parse, stringify } from 'yaml';
import { BundleError } from '../../nodes/bundle/manifest.js';

/** Awaits a promise that must reject with a BundleError whose message matches re. */
export async function refused(p: Promise<unknown>, re: RegExp): Promise<BundleError> {
  let err: unknown;
  try {
    await p;
  } catch (e) {
    err = e;
  }
  expect(err, 'expected a refusal').to.be.instanceOf(BundleError);
  expect((err as Error).message).to.match(re);
  return err as BundleError;
}

/** Replaces a bundle file and re-declares its hash, as a careless exporter would. */
export function replaceFile(dir: string, name: string, bytes: Uint8Array): void {
  writeFileSync(join(dir, name), bytes);
  const m = parse(readFileSync(join(dir, 'manifest.yaml'), 'utf8'));
  m.files[name] = { sha256: createHash('sha256').update(bytes).digest('hex'), bytes: bytes.length };
  writeFileSync(join(dir, 'manifest.yaml'), stringify(m));
}
