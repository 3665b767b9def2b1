/**
 * Which files make a bag: a bare `.mcap` file; a directory with metadata.yaml (its relative_file_paths, in order);
 * or a directory of `.mcap` files without metadata.yaml (all of them, sorted by name, numerically aware so that
 * `x_10` follows `x_9`).
 */
import { closeSync, existsSync, openSync, readdirSync, readFileSync, readSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { BagError } from './errors.js';
import { parseBagMetadata } from './metadataYaml.js';
import type { BagMetadata } from './metadataYaml.js';

export interface BagLocation {
  /** The path as given, resolved. */
  path: string;
  /** Absolute paths of the storage files, in bag order. */
  files: string[];
  /** metadata.yaml, when the bag is a directory that has one. */
  metadata?: BagMetadata;
}

const MCAP_MAGIC = Buffer.from([0x89, 0x4d, 0x43, 0x41, 0x50, 0x30, 0x0d, 0x0a]);

/** Throws BagError unless `file` is a regular file (opening a FIFO, socket or device for reading waits for ever). */
function assertRegularFile(file: string): void {
  let st;
  try {
    st = statSync(file);
  } catch (e) {
    throw new BagError(`${file}: cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  if (!st.isFile())
    throw new BagError(
      `${file}: expected a regular file, got ${st.isDirectory() ? 'a directory' : st.isFIFO() ? 'a FIFO' : 'a socket or device'}`,
    );
}

/** Throws BagError unless `file` is a regular file that starts with the MCAP magic. */
export function assertMcapMagic(file: string): void {
  assertRegularFile(file);
  const buf = Buffer.alloc(8);
  let n: number;
  let fd: number | undefined;
  try {
    fd = openSync(file, 'r');
    n = readSync(fd, buf, 0, 8, 0);
  } catch (e) {
    throw new BagError(`${file}: cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
  if (n < 8 || !buf.equals(MCAP_MAGIC)) {
    const found =
      n === 0
        ? 'an empty file'
        : buf
            .subarray(0, n)
            .toString('hex')
            .replace(/(..)(?!$)/g, '$1 ');
    throw new BagError(`${file}: not an MCAP file (expected magic 89 4d 43 41 50 30 0d 0a, found ${found})`);
  }
}

export function locateBag(path: string): BagLocation {
  const abs = resolve(path);
  if (!existsSync(abs))
    throw new BagError(`${path}: no such file or directory (expected a .mcap file or a rosbag2 directory)`);
  const st = statSync(abs);
  if (st.isFile()) {
    if (basename(abs) === 'metadata.yaml') return locateBag(join(abs, '..'));
    if (abs.endsWith('.db3'))
      throw new BagError(`${path}: sqlite3 (.db3) bags are not supported; convert with 'ros2 bag convert' to mcap`);
    return { path: abs, files: [abs] };
  }
  if (!st.isDirectory()) throw new BagError(`${path}: not a file or directory`);
  const metaPath = join(abs, 'metadata.yaml');
  if (existsSync(metaPath)) {
    assertRegularFile(metaPath);
    const metadata = parseBagMetadata(readFileSync(metaPath, 'utf8'), metaPath);
    if (metadata.storageIdentifier !== '' && metadata.storageIdentifier !== 'mcap') {
      throw new BagError(`${metaPath}: storage_identifier: expected mcap, got ${metadata.storageIdentifier}`);
    }
    const names =
      metadata.relativeFilePaths.length > 0 ? metadata.relativeFilePaths : metadata.files.map((f) => f.path);
    if (names.length === 0)
      throw new BagError(`${metaPath}: relative_file_paths: expected at least one file, got none`);
    const files = names.map((n) => {
      // rosbag2 ≤ Foxy wrote paths with the bag directory prefix; accept both.
      const direct = join(abs, n);
      const stripped = join(abs, basename(n));
      const f = existsSync(direct) ? direct : stripped;
      if (!existsSync(f)) throw new BagError(`${metaPath}: relative_file_paths: ${n}: no such file in ${path}`);
      return f;
    });
    return { path: abs, files, metadata };
  }
  const mcaps = readdirSync(abs)
    .filter((f) => f.endsWith('.mcap'))
    .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  if (mcaps.length === 0) {
    throw new BagError(`${path}: not a bag (expected metadata.yaml or .mcap files in the directory, found neither)`);
  }
  return { path: abs, files: mcaps.map((f) => join(abs, f)) };
}
