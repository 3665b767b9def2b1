/**
 * The demo bundle `ar1 demo` keeps in its folder: made when missing, made again when this version generates a
 * different one, and never written over any other bundle.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { UserError } from '../core/errors.js';
import { MANIFEST_FILE } from '../bundle/manifest.js';
import { buildDemoBundle, writeBundle, type DemoBundleOptions } from './demoBundle.js';

/**
 * Keeps the demo bundle in dir current: writes it when dir has none, and writes it again when the demo bundle there
 * differs from what this version generates (the manifest lists every file's sha256, so an equal manifest means the
 * same graphs); a demo bundle left by another version of ar1-ros would otherwise give other results. Only a demo
 * bundle is replaced, and only the files its manifest lists: any other bundle in dir (a real model, a large demo
 * bundle) is refused with a UserError and left as it is.
 */
export function ensureDemoBundle(dir: string, opts: DemoBundleOptions = {}): 'made' | 'remade' | 'current' {
  const built = buildDemoBundle(opts);
  const path = join(dir, MANIFEST_FILE);
  const before = existsSync(path) ? readFileSync(path, 'utf8') : undefined;
  if (before === built.manifestText) return 'current';
  if (before !== undefined) {
    const old = demoBundleFiles(before, built.manifest.bundle.id, path);
    for (const f of old) rmSync(join(dir, f), { force: true });
  }
  writeBundle(dir, built);
  return before === undefined ? 'made' : 'remade';
}

/**
 * The files (manifest included) of the demo bundle whose manifest is `text`; a UserError when it is not a demo bundle
 * with this id, or lists a file outside its folder.
 */
function demoBundleFiles(text: string, id: string, where: string): string[] {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch {
    raw = undefined;
  }
  const r = (raw ?? {}) as { bundle?: { id?: unknown }; files?: unknown };
  const found = typeof r.bundle?.id === 'string' ? r.bundle.id : 'no bundle.id';
  if (found !== id) {
    throw new UserError(
      `${where}: bundle.id: expected the demo bundle ${id} to update, found ${found}; ar1 demo replaces only its own bundle: pass another --dir`,
    );
  }
  const files = r.files && typeof r.files === 'object' ? Object.keys(r.files) : [];
  const outside = files.find((f) => f !== basename(f) || f === '..' || f === '.');
  if (outside !== undefined) {
    throw new UserError(`${where}: files: expected file names in the bundle folder, found ${JSON.stringify(outside)}`);
  }
  return [...files, MANIFEST_FILE];
}
