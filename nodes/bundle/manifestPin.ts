/**
 * The manifest is what every other file's hash hangs on, so it is pinned itself: the vehicle configuration carries
 * the sha256 of the bundle's manifest.yaml bytes (planner parameter manifest_sha256; `ar1 model verify` prints it),
 * and a bundle whose manifest differs is refused before anything loads. An edit that keeps the file hashes valid
 * (accel_std × 100, frame_spacing_s, temperature 1e300) changes the digest.
 */
import { createHash } from 'node:crypto';
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { BundleError } from './manifest.js';

/** [bytes] a manifest is a few KB; anything larger (or not a regular file) is refused, never read for ever. */
const MAX_MANIFEST_BYTES = 4 << 20;

/** sha256 (hex) of bundleDir/manifest.yaml's bytes. */
export function manifestSha256(bundleDir: string): string {
  const path = join(bundleDir, 'manifest.yaml');
  let size: number;
  try {
    const st = statSync(path);
    if (!st.isFile())
      throw new BundleError(
        `${path}: expected a regular file, got ${st.isDirectory() ? 'a directory' : 'a FIFO, socket or device'}`,
      );
    size = st.size;
  } catch (e) {
    if (e instanceof BundleError) throw e;
    throw new BundleError(
      `${path}: cannot read the bundle manifest (${(e as NodeJS.ErrnoException).code ?? String(e)})`,
    );
  }
  if (size > MAX_MANIFEST_BYTES)
    throw new BundleError(`${path}: expected at most ${MAX_MANIFEST_BYTES} bytes, got ${size}`);
  const fd = openSync(path, 'r');
  try {
    const hash = createHash('sha256');
    const buf = Buffer.alloc(1 << 16);
    let total = 0;
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      total += n;
      if (total > MAX_MANIFEST_BYTES)
        throw new BundleError(`${path}: expected at most ${MAX_MANIFEST_BYTES} bytes, got more`);
      hash.update(buf.subarray(0, n));
    }
    return hash.digest('hex');
  } finally {
    closeSync(fd);
  }
}

/**
 * Refuses a bundle whose manifest.yaml is not the pinned one. An empty pin checks nothing (development; the
 * vehicle configuration should always pin).
 */
export function checkManifestPin(bundleDir: string, pinned: string, pinKey = 'manifest_sha256'): void {
  if (pinned === '') return;
  const got = manifestSha256(bundleDir);
  if (got !== pinned) {
    throw new BundleError(
      `${join(bundleDir, 'manifest.yaml')}: sha256 ${got} does not match ${pinKey} ${pinned} ` +
        '(the manifest was changed; verify the bundle with ar1 model verify and pin its digest)',
    );
  }
}
