// Typed errors shared by every subsystem, with their single mapping to HTTP and gRPC status codes.

export type ErrorKind =
  | 'NotFound'
  | 'Conflict'
  | 'InvalidArgument'
  | 'Unavailable'
  | 'PermissionDenied'
  | 'NotManager'
  | 'FailedPrecondition'
  | 'Unimplemented'
  | 'Internal';

export class TsswarmError extends Error {
  constructor(
    readonly kind: ErrorKind,
    message: string,
  ) {
    super(message);
    this.name = kind;
  }
}

export class NotFound extends TsswarmError {
  constructor(message: string) {
    super('NotFound', message);
  }
}
export class Conflict extends TsswarmError {
  constructor(message: string) {
    super('Conflict', message);
  }
}
export class InvalidArgument extends TsswarmError {
  constructor(message: string) {
    super('InvalidArgument', message);
  }
}
export class Unavailable extends TsswarmError {
  constructor(message: string) {
    super('Unavailable', message);
  }
}
export class PermissionDenied extends TsswarmError {
  constructor(message: string) {
    super('PermissionDenied', message);
  }
}
export class FailedPrecondition extends TsswarmError {
  constructor(message: string) {
    super('FailedPrecondition', message);
  }
}
export class Unimplemented extends TsswarmError {
  constructor(message: string) {
    super('Unimplemented', message);
  }
}
export class Internal extends TsswarmError {
  constructor(message: string) {
    super('Internal', message);
  }
}

export const NOT_MANAGER_MESSAGE =
  "This node is not a swarm manager. Worker nodes can't be used to view or modify cluster state. Please run this command on a manager node or promote the current node to a manager.";

export class NotManager extends TsswarmError {
  constructor(message = NOT_MANAGER_MESSAGE) {
    super('NotManager', message);
  }
}

const HTTP_STATUS: Record<ErrorKind, number> = {
  NotFound: 404,
  Conflict: 409,
  InvalidArgument: 400,
  Unavailable: 503,
  PermissionDenied: 403,
  NotManager: 503,
  FailedPrecondition: 503,
  Unimplemented: 501,
  Internal: 500,
};

// gRPC status codes (google.rpc.Code).
const GRPC_CODE: Record<ErrorKind, number> = {
  NotFound: 5,
  Conflict: 10, // ABORTED: swarmkit uses it for "update out of sequence"-like races
  InvalidArgument: 3,
  Unavailable: 14,
  PermissionDenied: 7,
  NotManager: 9, // FAILED_PRECONDITION
  FailedPrecondition: 9,
  Unimplemented: 12,
  Internal: 13,
};

export function httpStatusOf(err: unknown): number {
  return err instanceof TsswarmError ? HTTP_STATUS[err.kind] : 500;
}

export function grpcCodeOf(err: unknown): number {
  return err instanceof TsswarmError ? GRPC_CODE[err.kind] : 13;
}

/** Carries the kind across gRPC: the kind travels in the error metadata, the message as details. */
export function errorFromKind(kind: string, message: string): TsswarmError {
  const k = (kind in HTTP_STATUS ? kind : 'Internal') as ErrorKind;
  return new TsswarmError(k, message);
}

export function isKind(err: unknown, kind: ErrorKind): boolean {
  return err instanceof TsswarmError && err.kind === kind;
}
