// The msgpackr codec used for Raft entries, snapshots and every gRPC message.
import { Packr } from 'msgpackr';

// Records (shared structures) make frames depend on decoder state; plain maps keep every frame self-contained.
const packr = new Packr({ useRecords: false, mapsAsObjects: true, int64AsType: 'number' });

export function encode(value: unknown): Buffer {
  return packr.pack(value);
}

export function decode<T = unknown>(buf: Uint8Array): T {
  return packr.unpack(buf) as T;
}

/** Serializer pair in the shape @grpc/grpc-js expects for method definitions. */
export const grpcCodec = {
  serialize: (value: unknown): Buffer => encode(value),
  deserialize: (buf: Buffer): unknown => decode(buf),
};
