// A key-value state machine on a RaftNode over real gRPC on 127.0.0.1: the test subject for the driver,
// the transport and the chaos tests.
import * as grpc from '@grpc/grpc-js';
import { decode, encode, createLogger } from '../../api/index.js';
import { GrpcTransport, RaftNode, type Entry, type StateMachine } from '../../raft/index.js';

export class KvStateMachine implements StateMachine {
  data = new Map<string, string>();
  applies = 0;
  apply(entries: Entry[]): void {
    for (const e of entries) {
      const { key, value } = decode<{ key: string; value: string }>(e.data);
      this.data.set(key, value);
      this.applies++;
    }
  }
  snapshot(): Uint8Array {
    return encode([...this.data]);
  }
  restore(data: Uint8Array): void {
    this.data = new Map(decode<[string, string][]>(data));
  }
}

export interface KvNode {
  id: string;
  port: number;
  node: RaftNode;
  sm: KvStateMachine;
  transport: GrpcTransport;
  put(key: string, value: string): Promise<{ index: number }>;
  stop(): Promise<void>;
}

export async function startKvNode(o: {
  id: string;
  dir: string;
  port?: number;
  bootstrap?: { id: string; addr: string }[];
  peers?: { id: string; addr: string }[];
  snapshotEvery?: number;
  tickMs?: number;
  forceNewCluster?: boolean;
}): Promise<KvNode> {
  const server = new grpc.Server({ 'grpc.max_receive_message_length': 8 * 1024 * 1024 });
  const transport = new GrpcTransport({
    credentials: grpc.credentials.createInsecure(),
    log: createLogger({ node: o.id }, () => undefined),
  });
  const sm = new KvStateMachine();
  const node = new RaftNode({
    id: o.id,
    dir: o.dir,
    stateMachine: sm,
    transport,
    addr: o.port ? `127.0.0.1:${o.port}` : undefined,
    bootstrap: o.bootstrap,
    peers: o.peers,
    tickMs: o.tickMs ?? 20,
    snapshotEvery: o.snapshotEvery,
    forceNewCluster: o.forceNewCluster,
    log: createLogger({ node: o.id }, () => undefined),
  });
  transport.register(server, {
    onMessage: (m) => node.receive(m),
    onUnreachable: (id) => node.reportUnreachable(id),
    onSnapshotStatus: (id, ok) => node.reportSnapshot(id, ok),
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`127.0.0.1:${o.port ?? 0}`, grpc.ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    ),
  );
  try {
    await node.start();
  } catch (err) {
    server.forceShutdown();
    throw err;
  }
  return {
    id: o.id,
    port,
    node,
    sm,
    transport,
    put: (key, value) => node.propose(encode({ key, value })),
    async stop() {
      await node.stop();
      transport.stop();
      // Peers' streams never end on their own: close them rather than wait.
      server.forceShutdown();
    },
  };
}
