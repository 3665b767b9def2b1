import { UserError } from '../../core/errors.js';

/** A bag that cannot be read as asked: one line naming the file/topic, what was expected and what was found. */
export class BagError extends UserError {
  override readonly name: string = 'BagError';
}
