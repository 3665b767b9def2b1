/**
 * An error caused by the user's input (a file, a parameter, a bag, a bundle): printed as one line without a
 * stack trace by the CLI. The message names what was wrong, what was expected and what was found.
 */
export class UserError extends Error {
  override readonly name: string = 'UserError';
  constructor(
    message: string,
    readonly exitCode = 2,
  ) {
    super(message);
  }
}

export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** The first line of an error's message: what a one-line log or error text may quote of it. */
export function errorFirstLine(e: unknown): string {
  return errorMessage(e).split('\n')[0]!;
}
