// Raft messages between managers over gRPC: one client stream per peer for ordinary messages (bounded queue,
// backpressure, unreachable peers reported), and a separate chunked stream per snapshot.
import * as grpc from '@grpc/grpc-js';
import { decode, encode, createLogger, errorMessage, type Logger } from '../../api/index.js';
import type { MemberId, Message } from '../types.js';

export const RAFT_SERVICE = 'tsswarm.Raft';
/** Frames on the wire stay under gRPC's 4 MiB default. */
export const SNAPSHOT_CHUNK = 1024 * 1024;
const QUEUE_LIMIT = 4096;
/** Messages for one peer share a frame up to about this much entry data (a single message may be larger). */
const FRAME_BYTES = 1024 * 1024;

const rawMethod = (name: string, requestStream: boolean): grpc.MethodDefinition<Buffer, Buffer> => ({
  path: `/${RAFT_SERVICE}/${name}`,
  requestStream,
  responseStream: false,
  requestSerialize: (b: Buffer) => b,
  requestDeserialize: (b: Buffer) => b,
  responseSerialize: (b: Buffer) => b,
  responseDeserialize: (b: Buffer) => b,
});

const SEND = rawMethod('Send', true);
const SNAPSHOT = rawMethod('Snapshot', true);
export const raftServiceDefinition: grpc.ServiceDefinition = { Send: SEND, Snapshot: SNAPSHOT };

export interface TransportHandlers {
  /** A message arrived (already decoded, not yet validated: the core validates). */
  onMessage(m: Message): void;
  onUnreachable(id: MemberId): void;
  onSnapshotStatus(id: MemberId, ok: boolean): void;
}

export interface TransportOptions {
  credentials: grpc.ChannelCredentials;
  /** Called with each incoming call before it is served; throw to refuse (e.g. role checks from mTLS). */
  authorize?: (call: grpc.ServerReadableStream<Buffer, Buffer>) => Promise<void> | void;
  channelOptions?: grpc.ChannelOptions;
  log?: Logger;
}

interface Peer {
  addr: string;
  client: grpc.Client;
  stream?: grpc.ClientWritableStream<Buffer>;
  queued: number;
}

export class GrpcTransport {
  private peers = new Map<MemberId, Peer>();
  private handlers?: TransportHandlers;
  private readonly log: Logger;
  /** Frames that failed to decode, for metrics and tests. */
  malformed = 0;

  constructor(private readonly o: TransportOptions) {
    this.log = o.log ?? createLogger({ component: 'raft-transport' });
  }

  /** Serves the Raft service on `server` (shared with the node's other cluster RPCs). */
  register(server: grpc.Server, handlers: TransportHandlers): void {
    this.handlers = handlers;
    server.addService(raftServiceDefinition, {
      Send: (call: grpc.ServerReadableStream<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) =>
        void this.serveSend(call, cb),
      Snapshot: (call: grpc.ServerReadableStream<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) =>
        void this.serveSnapshot(call, cb),
    });
  }

  private async authorized(
    call: grpc.ServerReadableStream<Buffer, Buffer>,
    cb: grpc.sendUnaryData<Buffer>,
  ): Promise<boolean> {
    try {
      await this.o.authorize?.(call);
      return true;
    } catch (err) {
      cb({ code: grpc.status.PERMISSION_DENIED, details: errorMessage(err) }, null);
      return false;
    }
  }

  private async serveSend(
    call: grpc.ServerReadableStream<Buffer, Buffer>,
    cb: grpc.sendUnaryData<Buffer>,
  ): Promise<void> {
    if (!(await this.authorized(call, cb))) return;
    call.on('data', (frame: Buffer) => {
      let decoded: Message | Message[];
      try {
        decoded = decode<Message | Message[]>(frame);
      } catch {
        this.malformed++;
        return;
      }
      // A frame carries one message, or all of one Ready's messages for this peer.
      if (Array.isArray(decoded)) for (const m of decoded) this.handlers?.onMessage(m);
      else this.handlers?.onMessage(decoded);
    });
    call.on('end', () => cb(null, Buffer.alloc(0)));
    call.on('error', () => undefined);
  }

  private async serveSnapshot(
    call: grpc.ServerReadableStream<Buffer, Buffer>,
    cb: grpc.sendUnaryData<Buffer>,
  ): Promise<void> {
    if (!(await this.authorized(call, cb))) return;
    // The header announces the size: chunks are copied into one buffer of exactly that size as they arrive,
    // so a snapshot costs its own size in memory, not twice that.
    let header: (Message & { size?: number }) | undefined;
    let data: Buffer | undefined;
    let filled = 0;
    let bad = false;
    call.on('data', (frame: Buffer) => {
      if (bad) return;
      if (!header) {
        try {
          header = decode<Message & { size?: number }>(frame);
          data = Buffer.allocUnsafe(header.size ?? 0);
        } catch {
          this.malformed++;
          bad = true;
        }
        return;
      }
      if (filled + frame.length > data!.length) {
        bad = true;
        return;
      }
      frame.copy(data!, filled);
      filled += frame.length;
    });
    call.on('end', () => {
      if (bad || !header?.snapshot || filled !== data!.length) {
        cb({ code: grpc.status.INVALID_ARGUMENT, details: 'malformed snapshot stream' }, null);
        return;
      }
      header.snapshot = { meta: header.snapshot.meta, data: data! };
      delete header.size;
      this.handlers?.onMessage(header);
      cb(null, Buffer.alloc(0));
    });
    call.on('error', () => undefined);
  }

  setPeer(id: MemberId, addr: string): void {
    const p = this.peers.get(id);
    if (p?.addr === addr) return;
    if (p) this.removePeer(id);
    this.peers.set(id, {
      addr,
      client: new grpc.Client(addr, this.o.credentials, {
        'grpc.ssl_target_name_override': 'swarm-manager',
        ...this.o.channelOptions,
      }),
      queued: 0,
    });
  }

  removePeer(id: MemberId): void {
    const p = this.peers.get(id);
    if (!p) return;
    p.stream?.end();
    p.client.close();
    this.peers.delete(id);
  }

  peerAddress(id: MemberId): string | undefined {
    return this.peers.get(id)?.addr;
  }

  /** Sends one Ready's messages: those for the same peer go out together in one frame (fewer, larger writes). */
  send(msgs: Message[]): void {
    const byPeer = new Map<MemberId, Message[]>();
    for (const m of msgs) {
      const p = this.peers.get(m.to);
      if (!p) {
        this.handlers?.onUnreachable(m.to);
        continue;
      }
      if (m.type === 'snap') this.sendSnapshot(m.to, p, m);
      else {
        const batch = byPeer.get(m.to);
        if (batch) batch.push(m);
        else byPeer.set(m.to, [m]);
      }
    }
    for (const [id, batch] of byPeer) {
      const p = this.peers.get(id)!;
      let frame: Message[] = [];
      let bytes = 0;
      for (const m of batch) {
        const size = m.entries?.reduce((n, e) => n + e.data.byteLength, 0) ?? 0;
        if (frame.length > 0 && bytes + size > FRAME_BYTES) {
          this.enqueue(id, p, frame);
          frame = [];
          bytes = 0;
        }
        frame.push(m);
        bytes += size;
      }
      this.enqueue(id, p, frame);
    }
  }

  private stream(id: MemberId, p: Peer): grpc.ClientWritableStream<Buffer> {
    if (p.stream) return p.stream;
    const s = p.client.makeClientStreamRequest(
      SEND.path,
      SEND.requestSerialize,
      SEND.responseDeserialize,
      new grpc.Metadata(),
      {},
      (err) => {
        if (p.stream === s) p.stream = undefined;
        if (err && this.peers.get(id) === p) {
          this.log.debug('raft stream to peer ended', { peer: id, err: err.message });
          this.handlers?.onUnreachable(id);
        }
      },
    );
    s.on('error', () => undefined);
    p.stream = s;
    p.queued = 0;
    return s;
  }

  private enqueue(id: MemberId, p: Peer, batch: Message[]): void {
    if (p.queued >= QUEUE_LIMIT) {
      // The peer is not keeping up: drop, and let the core back off to probing.
      this.handlers?.onUnreachable(id);
      return;
    }
    const s = this.stream(id, p);
    p.queued++;
    s.write(encode(batch.length === 1 ? batch[0] : batch), () => {
      p.queued = Math.max(0, p.queued - 1);
    });
  }

  private sendSnapshot(id: MemberId, p: Peer, m: Message): void {
    const snap = m.snapshot!;
    const call = p.client.makeClientStreamRequest(
      SNAPSHOT.path,
      SNAPSHOT.requestSerialize,
      SNAPSHOT.responseDeserialize,
      new grpc.Metadata(),
      {},
      (err) => this.handlers?.onSnapshotStatus(id, !err),
    );
    call.on('error', () => undefined);
    call.write(
      encode({ ...m, size: snap.data.byteLength, snapshot: { meta: snap.meta, data: new Uint8Array(0) } }),
    );
    const data = Buffer.from(snap.data.buffer, snap.data.byteOffset, snap.data.byteLength);
    let off = 0;
    const pump = (): void => {
      while (off < data.length) {
        const chunk = data.subarray(off, off + SNAPSHOT_CHUNK);
        off += chunk.length;
        if (!call.write(chunk)) {
          call.once('drain', pump);
          return;
        }
      }
      call.end();
    };
    pump();
  }

  stop(): void {
    for (const id of [...this.peers.keys()]) this.removePeer(id);
  }
}
