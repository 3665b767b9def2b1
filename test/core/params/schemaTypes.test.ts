import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { SCHEMA_TYPES, renderSchemaType } from '../../../scripts/schemaTypes.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

describe('core/params: types generated from the JSON schemas', function () {
  this.timeout(30_000); // prettier and the generator load on first use

  for (const t of SCHEMA_TYPES) {
    it(`${t.out} is what ${t.schema} generates (byte for byte)`, async () => {
      const onDisk = readFileSync(`${ROOT}/${t.out}`, 'utf8');
      expect(onDisk, `${t.out} is stale: run npm run schema-types`).to.equal(await renderSchemaType(t));
    });
  }

  it('a key with a default is required in the type, one without stays optional unless required; minItems makes no tuple', async () => {
    const t = { schema: 'inline', out: 'test/inline.generated.ts', name: 'Inline' };
    const text = await renderSchemaType(t, {
      type: 'object',
      additionalProperties: false,
      required: ['needed'],
      properties: {
        rate_hz: { type: 'number', default: 50 },
        label: { type: 'string' },
        needed: { type: 'string' },
        names: { type: 'array', minItems: 1, items: { type: 'string' }, default: ['a'] },
        group: { type: 'object', default: {}, properties: { on: { type: 'boolean', default: true } } },
      },
    });
    expect(text).to.match(/^ {2}rate_hz: number;$/m);
    expect(text).to.match(/^ {2}label\?: string;$/m);
    expect(text).to.match(/^ {2}needed: string;$/m);
    expect(text).to.match(/^ {2}names: string\[\];$/m);
    expect(text).to.match(/^ {2}group: \{$/m);
    expect(text).to.match(/^ {4}on: boolean;$/m);
    expect(text).not.to.match(/\[k: string\]/); // no object takes keys the schema does not list
  });

  it('an edited schema renders another file (the byte comparison above notices a schema changed alone)', async () => {
    const t = SCHEMA_TYPES.find((s) => s.name === 'SimNodeParams')!;
    const schema = JSON.parse(readFileSync(`${ROOT}/${t.schema}`, 'utf8')) as { properties: Record<string, unknown> };
    schema.properties['extra_s'] = { type: 'number', default: 1, description: 'added [s]' };
    const text = await renderSchemaType(t, schema);
    expect(text).to.match(/^ {2}extra_s: number;$/m);
    expect(text).not.to.equal(readFileSync(`${ROOT}/${t.out}`, 'utf8'));
  });
});
