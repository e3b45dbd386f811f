// A manager-like gRPC server on 127.0.0.1 with the CA service and one manager-only test method, over real mTLS.
import * as grpc from '@grpc/grpc-js';
import {
  Authorizer,
  CertificateStore,
  MemoryNodeRegistry,
  addCAService,
  createCluster,
  serveUnary,
  serverCredentials,
  unaryMethod,
  type NewCluster,
} from '../../../pki/index.js';

export const MANAGER_ONLY = unaryMethod('tsswarm.Test', 'ManagerOnly');

export interface PkiServer {
  address: string;
  cluster: NewCluster;
  registry: MemoryNodeRegistry;
  store: CertificateStore;
  server: grpc.Server;
  stop(): Promise<void>;
}

export async function startPkiServer(
  o: { validityMs?: number; now?: () => number } = {},
): Promise<PkiServer> {
  const registry = new MemoryNodeRegistry();
  // The server's own certificate keeps the default validity; only the certificates it issues are short-lived.
  const cluster = await createCluster({ registry });
  if (o.validityMs) cluster.authority.validityMs = o.validityMs;
  const store = new CertificateStore({
    rootCaPem: cluster.credentials.rootCaPem,
    certPem: cluster.credentials.certPem,
    keyPem: cluster.credentials.keyPem,
  });
  const authz = new Authorizer({
    rootCA: () => cluster.authority.rootCA,
    clusterId: () => cluster.clusterId,
    isRemoved: (id) => registry.isRemoved(id),
    now: o.now,
  });
  const server = new grpc.Server({ 'grpc.max_receive_message_length': 4 * 1024 * 1024 });
  addCAService(server, () => cluster.authority, authz);
  server.addService(
    { ManagerOnly: MANAGER_ONLY },
    {
      ManagerOnly: serveUnary(async (_req, call) => {
        const id = await authz.require(call as never, ['swarm-manager']);
        return { caller: id.nodeId };
      }),
    },
  );
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', serverCredentials(store), (err, p) => (err ? reject(err) : resolve(p))),
  );
  return {
    address: `127.0.0.1:${port}`,
    cluster,
    registry,
    store,
    server,
    stop: () => new Promise<void>((resolve) => server.tryShutdown(() => resolve())),
  };
}
