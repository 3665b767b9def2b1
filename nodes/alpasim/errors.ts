/**
 * An RPC that the driver refuses, with the gRPC status it answers with. The message names the request field, what
 * was expected and what was found; the server maps the code name to grpc-js's numeric status.
 */
export type DriverStatus =
  | 'INVALID_ARGUMENT'
  | 'NOT_FOUND'
  | 'ALREADY_EXISTS'
  | 'FAILED_PRECONDITION'
  | 'RESOURCE_EXHAUSTED'
  | 'INTERNAL'
  | 'UNAVAILABLE';

export class DriverError extends Error {
  override readonly name = 'DriverError';
  constructor(
    readonly status: DriverStatus,
    message: string,
  ) {
    super(message);
  }
}

export const invalid = (message: string) => new DriverError('INVALID_ARGUMENT', message);
