import { UserError } from '../errors.js';

/** A parameter mistake: one line naming the origin (file or -p), the key, what was expected and what was found. */
export class ParameterError extends UserError {
  override readonly name = 'ParameterError';
}
