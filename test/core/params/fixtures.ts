import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ParameterSchema } from '../../../nodes/core/params/index.js';

/** Writes files into a fresh temporary folder; returns their paths by name. */
export function tempFiles(files: Record<string, string>): Record<string, string> {
  const dir = mkdtempSync(join(tmpdir(), 'ar1-params-'));
  const out: Record<string, string> = {};
  for (const [name, text] of Object.entries(files)) {
    out[name] = join(dir, name);
    writeFileSync(out[name], text);
  }
  return out;
}

/** A small node schema with every constraint kind the loader reports. */
export const TEST_SCHEMA: ParameterSchema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  type: 'object',
  additionalProperties: false,
  required: ['bundle_dir'],
  properties: {
    bundle_dir: { type: 'string', description: 'Model bundle folder' },
    max_plan_age_s: {
      type: 'number',
      default: 0.5,
      exclusiveMinimum: 0,
      maximum: 5,
      description: 'Plan age limit [s]',
    },
    rate_hz: { type: 'integer', default: 50, minimum: 1, description: 'Control rate [Hz]' },
    provider: { type: 'string', enum: ['cuda', 'cpu'], default: 'cuda', description: 'Execution provider' },
    verbose: { type: 'boolean', default: false, description: 'Extra logs' },
    limits: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        reference_speed_mps: {
          type: 'array',
          items: { type: 'number' },
          minItems: 1,
          default: [1, 10, 30],
          description: '[m/s]',
        },
        max_curvature: { type: 'number', default: 0.2, exclusiveMinimum: 0, description: '[1/m]' },
      },
    },
  },
};

export interface TestParams {
  bundle_dir: string;
  max_plan_age_s: number;
  rate_hz: number;
  provider: 'cuda' | 'cpu';
  verbose: boolean;
  limits: { reference_speed_mps: number[]; max_curvature: number };
}
