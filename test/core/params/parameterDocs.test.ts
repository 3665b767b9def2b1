/**
 * The three places a parameter is written down agree: the schema (config/<node>.schema.json: key, type, default,
 * "[unit]" at the end of the description), the shipped parameter file (config/<node>.yaml: every key, with a
 * "# [unit] … (default X)" comment) and the parameter tables of the READMEs (key, default, unit).
 */
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const read = (path: string) => readFileSync(`${ROOT}${path}`, 'utf8');

type Schema = {
  type?: string | string[];
  properties?: Record<string, Schema>;
  items?: Schema;
  default?: unknown;
  description?: string;
};
interface Leaf {
  type: string;
  default: unknown;
  unit: string | undefined;
}

/** Every leaf of a parameter schema by dotted name (an array is a leaf). */
function schemaLeaves(s: Schema, prefix = ''): Map<string, Leaf> {
  const out = new Map<string, Leaf>();
  for (const [k, v] of Object.entries(s.properties ?? {})) {
    const name = `${prefix}${k}`;
    if (v.type === 'object' && v.properties) {
      for (const [n, l] of schemaLeaves(v, `${name}.`)) out.set(n, l);
      continue;
    }
    const unit = /\[([^\]]+)\]$/.exec(v.description ?? '')?.[1];
    out.set(name, { type: String(v.type), default: v.default, unit });
  }
  return out;
}

/** "m/s²" and "m/s^2", "–" and "-" are the same unit. */
const normUnit = (u: string) => u.trim().replace(/²/g, '^2').replace(/³/g, '^3').replace(/[–—]/g, '-');

/**
 * The value a documented default stands for: YAML, with "−" as a minus; undefined when it is prose. In a table a
 * text value is in backticks (`warn`), so a bare word there is prose ("the 4 AR1 cameras").
 */
function docValue(text: string, bareText = false): { value: unknown } | undefined {
  const quoted = /^`.*`$/.test(text.trim());
  const t = text.trim().replace(/^`|`$/g, '').replace(/−/g, '-');
  try {
    const v: unknown = parse(t);
    if (v === null || (typeof v === 'string' && !quoted && !bareText)) return undefined;
    if (typeof v === 'string' && /<[^>]+>/.test(v)) return undefined; // a pattern: `/sensors/camera/<name>/image_raw`
    return { value: v };
  } catch {
    return undefined;
  }
}

/** A documented default matches: equal, or one value given for every element of a list default. */
function sameDefault(documented: unknown, schemaDefault: unknown): boolean {
  const eq = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
  if (eq(documented, schemaDefault)) return true;
  return Array.isArray(schemaDefault) && schemaDefault.length > 0 && schemaDefault.every((x) => eq(x, documented));
}

interface DocLine {
  key: string;
  unit?: string;
  default?: string;
  where: string;
}

/**
 * The keys of a parameter file as laid out by hand, below "ros__parameters:", with their comments; a commented-out
 * key ("# cameras:" then "#   topics: […]  # [-] (default [])") counts, at the column of its name.
 */
function yamlKeys(path: string): DocLine[] {
  const out: DocLine[] = [];
  const stack: Array<{ col: number; key: string; unit?: string }> = [];
  let paramsCol = -1;
  read(path)
    .split('\n')
    .forEach((line, i) => {
      const m = /^(\s*(?:#\s*)?)([A-Za-z_][A-Za-z0-9_]*):(?:\s|$)(.*)$/.exec(line);
      if (!m) return;
      // A commented-out key keeps its place: "# " stands where two columns of indentation were.
      const col = m[1]!.includes('#') ? m[1]!.length - 2 : m[1]!.length;
      const key = m[2]!;
      if (key === 'ros__parameters') {
        paramsCol = col;
        stack.length = 0;
        return;
      }
      if (paramsCol < 0 || col <= paramsCol) return;
      while (stack.length && stack[stack.length - 1]!.col >= col) stack.pop();
      const name = [...stack.map((s) => s.key), key].join('.');
      const comment = / # (.*)$/.exec(m[3]!)?.[1] ?? '';
      // A key without a unit of its own takes its section's ("vocabulary:  # [-] the model's phrases").
      const unit = /^\[([^\]]+)\]/.exec(comment)?.[1] ?? stack.findLast((s) => s.unit !== undefined)?.unit;
      stack.push({ col, key, ...(unit ? { unit } : {}) });
      const dflt = /\(default:? ([^)]*)\)\s*$/.exec(comment)?.[1];
      out.push({
        key: name,
        ...(unit ? { unit } : {}),
        ...(dflt !== undefined ? { default: dflt } : {}),
        where: `${path}:${i + 1}`,
      });
    });
  return out;
}

interface TableRow {
  keys: string[];
  defaults: string[];
  units: string[];
  where: string;
}

/** Expands a key cell: "`a.b` / `.c`" → a.b, a.c; "`a.b` / `c`" → a.b, a.c; "`a.x`, `a.y`" likewise. */
function expandKeys(cell: string): string[] {
  const spans = [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1]!);
  const first = spans[0];
  if (first === undefined) return [];
  const parent = first.includes('.') ? first.slice(0, first.lastIndexOf('.') + 1) : '';
  return spans.map((s, i) =>
    i === 0 ? s : s.startsWith('.') ? parent + s.slice(1) : s.includes('.') ? s : parent + s,
  );
}

/** The rows of the Markdown table that follows `heading` (a line starting with it) in a file. */
function tableAfter(path: string, heading: RegExp): TableRow[] {
  const lines = read(path).split('\n');
  const at = lines.findIndex((l) => heading.test(l));
  expect(at, `${path}: ${heading}`).to.be.greaterThan(-1);
  let i = at;
  while (i < lines.length && !lines[i]!.startsWith('|')) i++;
  const header = lines[i]!;
  const rows: TableRow[] = [];
  for (i += 2; i < lines.length && lines[i]!.startsWith('|'); i++) {
    const cells = lines[i]!.replace(/\\\|/g, '¦')
      .split('|')
      .slice(1, -1)
      .map((c) => c.trim());
    const keys = expandKeys(cells[0]!);
    if (header.includes('| unit |')) {
      rows.push({ keys, defaults: cells[1]!.split(' / '), units: cells[2]!.split(' / '), where: `${path}:${i + 1}` });
    } else {
      // "| parameter | default | |": the unit, when given, follows each value ("6.4 s, 1 s"; "0.5, 0.25 m/s²").
      const parts = cells[1]!.split(/, (?![^[]*\])/);
      const split = parts.map((p) => /^(\S+)(?: (.+))?$/.exec(p.trim()));
      const lastUnit = split[split.length - 1]?.[2];
      const shared = split.length > 1 && split.slice(0, -1).every((s) => !s?.[2]);
      rows.push({
        keys,
        defaults: split.map((s, j) => (s ? s[1]! : parts[j]!)),
        units: split.map((s) => s?.[2] ?? (shared ? lastUnit : undefined) ?? ''),
        where: `${path}:${i + 1}`,
      });
    }
  }
  return rows;
}

const NODES = [
  {
    node: 'ar1_planner',
    yaml: 'config/ar1_planner.yaml',
    tables: [
      { file: 'nodes/planner/README.md', heading: /^## Parameters/, complete: true },
      { file: 'README.md', heading: /^\| parameter \(`config\/ar1_planner\.yaml`\)/, complete: false },
    ],
  },
  {
    node: 'ar1_watchdog',
    yaml: 'config/ar1_watchdog.yaml',
    tables: [
      { file: 'nodes/watchdog/README.md', heading: /^## Parameters/, complete: true },
      { file: 'README.md', heading: /^\| parameter \(`config\/ar1_watchdog\.yaml`\)/, complete: false },
    ],
  },
  {
    node: 'ar1_sim',
    yaml: 'config/ar1_sim.yaml',
    tables: [{ file: 'docs/simulation.md', heading: /^\| `ar1_sim` parameter/, complete: true }],
  },
];

describe('core/params: schemas, parameter files and README tables agree', () => {
  for (const { node, yaml, tables } of NODES) {
    const leaves = schemaLeaves(JSON.parse(read(`config/${node}.schema.json`)) as Schema);

    describe(node, () => {
      it(`every schema key has a "[unit]" at the end of its description`, () => {
        expect(leaves.size).to.be.greaterThan(5);
        for (const [key, leaf] of leaves) expect(leaf.unit, `${key}: description ends with [unit]`).to.be.a('string');
      });

      it(`${yaml}: every key is in the schema, with its unit and default; every schema key with a default is in the file`, () => {
        const lines = yamlKeys(yaml);
        const leafLines = lines.filter((l) => leaves.has(l.key));
        for (const l of lines) {
          const isSection = [...leaves.keys()].some((k) => k.startsWith(`${l.key}.`));
          expect(leaves.has(l.key) || isSection, `${l.where}: ${l.key} is not in config/${node}.schema.json`).to.equal(
            true,
          );
        }
        let defaultsChecked = 0;
        for (const l of leafLines) {
          const leaf = leaves.get(l.key)!;
          expect(l.unit, `${l.where}: ${l.key} has a "# [unit]" comment`).to.be.a('string');
          expect(normUnit(l.unit!), `${l.where}: ${l.key} unit`).to.equal(normUnit(leaf.unit!));
          if (l.default === undefined || l.default === 'these') continue;
          const documented = docValue(l.default.replace(/, none$/, ''), true);
          expect(documented, `${l.where}: ${l.key}: (default ${l.default}) reads as a value`).to.not.equal(undefined);
          expect(
            sameDefault(documented!.value, leaf.default),
            `${l.where}: ${l.key}: (default ${l.default}) vs the schema's ${JSON.stringify(leaf.default)}`,
          ).to.equal(true);
          defaultsChecked++;
        }
        expect(defaultsChecked).to.be.greaterThan(5);
        const inFile = new Set(lines.map((l) => l.key));
        for (const [key, leaf] of leaves)
          if (leaf.default !== undefined) expect(inFile.has(key), `${key} is in ${yaml}`).to.equal(true);
      });

      for (const t of tables) {
        it(`${t.file}: the parameter table's keys, defaults and units are the schema's${t.complete ? ', and it lists every key' : ''}`, () => {
          const rows = tableAfter(t.file, t.heading);
          expect(rows.length).to.be.greaterThan(0);
          const covered = new Set<string>();
          let compared = 0;
          for (const row of rows) {
            expect(row.keys.length, `${row.where}: a key in backticks`).to.be.greaterThan(0);
            for (const [j, key] of row.keys.entries()) {
              if (key.endsWith('.*')) {
                const prefix = key.slice(0, -1);
                const under = [...leaves.keys()].filter((k) => k.startsWith(prefix));
                expect(under.length, `${row.where}: ${key} names keys of the schema`).to.be.greaterThan(0);
                under.forEach((k) => covered.add(k));
                continue;
              }
              const leaf = leaves.get(key);
              expect(leaf, `${row.where}: ${key} is in config/${node}.schema.json`).to.not.equal(undefined);
              covered.add(key);
              const cellDefault = row.defaults.length === row.keys.length ? row.defaults[j]! : undefined;
              const cellUnit = row.units.length === row.keys.length ? row.units[j]! : row.units[0]!;
              if (cellUnit) expect(normUnit(cellUnit), `${row.where}: ${key} unit`).to.equal(normUnit(leaf!.unit!));
              const documented = cellDefault === undefined ? undefined : docValue(cellDefault);
              if (documented === undefined) continue; // prose ("the 4 AR1 cameras", "AR1's English")
              expect(
                sameDefault(documented.value, leaf!.default),
                `${row.where}: ${key}: default ${cellDefault} vs the schema's ${JSON.stringify(leaf!.default)}`,
              ).to.equal(true);
              compared++;
            }
          }
          expect(compared, `${t.file}: defaults compared`).to.be.greaterThan(0);
          if (t.complete)
            for (const key of leaves.keys()) expect(covered.has(key), `${t.file} lists ${key}`).to.equal(true);
        });
      }
    });
  }

  it('reads the layouts it checks (a units-and-defaults row, a shorthand row, a commented-out key)', () => {
    expect(expandKeys('`min_rate_hz.command` / `.trajectory`')).to.deep.equal([
      'min_rate_hz.command',
      'min_rate_hz.trajectory',
    ]);
    expect(expandKeys('`limits.accel_max_mps2` / `accel_min_mps2`')).to.deep.equal([
      'limits.accel_max_mps2',
      'limits.accel_min_mps2',
    ]);
    expect(expandKeys('`cameras.topics` / `cameras.types`')).to.deep.equal(['cameras.topics', 'cameras.types']);
    const wd = yamlKeys('config/ar1_watchdog.yaml');
    expect(wd.find((l) => l.key === 'cameras.types')).to.include({ unit: '-', default: '[]' });
    expect(wd.find((l) => l.key === 'emergency.faults')).to.include({ unit: '-', default: '[], none' });
    expect(sameDefault(2, [2, 2, 2])).to.equal(true);
    expect(sameDefault(2, [2, 3])).to.equal(false);
    expect(docValue('−2.5')).to.deep.equal({ value: -2.5 });
    expect(docValue('the 4 AR1 cameras')).to.equal(undefined);
    expect(docValue('`warn`')).to.deep.equal({ value: 'warn' });
    expect(docValue('base_link', true)).to.deep.equal({ value: 'base_link' });
  });
});
