// RPCs over @grpc/grpc-js with the msgpackr codec and typed errors carried across the wire.
import * as grpc from '@grpc/grpc-js';
import {
  encode,
  decode,
  errorFromKind,
  grpcCodeOf,
  TsswarmError,
  Internal,
  Unavailable,
  errorMessage,
} from '../../api/index.js';

const KIND_KEY = 'tss-error-kind';

/** A method with the msgpackr codec; `streams` marks a streaming request and/or response. */
export function rpcMethod(
  service: string,
  method: string,
  streams: { request?: boolean; response?: boolean } = {},
): grpc.MethodDefinition<unknown, unknown> {
  return {
    path: `/${service}/${method}`,
    requestStream: streams.request ?? false,
    responseStream: streams.response ?? false,
    requestSerialize: (v: unknown) => encode(v),
    requestDeserialize: (b: Buffer) => decode(b),
    responseSerialize: (v: unknown) => encode(v),
    responseDeserialize: (b: Buffer) => decode(b),
  };
}

export function unaryMethod(service: string, method: string): grpc.MethodDefinition<unknown, unknown> {
  return rpcMethod(service, method);
}

export type UnaryHandler<Req, Res> = (req: Req, call: grpc.ServerUnaryCall<Req, Res>) => Promise<Res>;

/** Adapts an async handler: typed errors become gRPC statuses with their kind in the trailers. */
export function serveUnary<Req, Res>(handler: UnaryHandler<Req, Res>): grpc.handleUnaryCall<Req, Res> {
  return (call, callback) => {
    handler(call.request, call).then(
      (res) => callback(null, res),
      (err: unknown) => {
        const typed = err instanceof TsswarmError ? err : new Internal(errorMessage(err));
        const metadata = new grpc.Metadata();
        metadata.set(KIND_KEY, typed.kind);
        callback({ code: grpcCodeOf(typed), details: typed.message, metadata } as grpc.ServiceError, null);
      },
    );
  };
}

/** Turns a gRPC failure back into the typed error the server threw (or Unavailable for transport failures). */
export function errorFromStatus(err: grpc.ServiceError): TsswarmError {
  const kind = err.metadata?.get(KIND_KEY)?.[0];
  if (typeof kind === 'string') return errorFromKind(kind, err.details);
  if (err.code === grpc.status.UNAVAILABLE || err.code === grpc.status.DEADLINE_EXCEEDED)
    return new Unavailable(err.details || err.message);
  if (err.code === grpc.status.RESOURCE_EXHAUSTED) return errorFromKind('InvalidArgument', err.details);
  if (err.code === grpc.status.PERMISSION_DENIED || err.code === grpc.status.UNAUTHENTICATED)
    return errorFromKind('PermissionDenied', err.details);
  return errorFromKind('Internal', err.details || err.message);
}

/** Calls a unary method on a generic client, resolving with the response or rejecting with a typed error. */
export function callUnary<Res>(
  client: grpc.Client,
  method: grpc.MethodDefinition<unknown, unknown>,
  req: unknown,
  timeoutMs = 10_000,
): Promise<Res> {
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest(
      method.path,
      method.requestSerialize,
      method.responseDeserialize,
      req,
      new grpc.Metadata(),
      { deadline: Date.now() + timeoutMs },
      (err, res) => (err ? reject(errorFromStatus(err)) : resolve(res as Res)),
    );
  });
}
