// A client channel to a manager that follows certificate renewals: after each update, new calls go over a new
// connection presenting the new certificate, while calls in flight finish on the old one.
import * as grpc from '@grpc/grpc-js';
import { clientCredentials, type CertificateStore } from './tls-credentials.js';

/** How long an old connection stays open for calls started before a renewal. */
const DRAIN_MS = 60_000;

export class ClusterChannel {
  private current: grpc.Client;
  private draining = new Set<grpc.Client>();
  private readonly unsubscribe: () => void;

  constructor(
    readonly address: string,
    private readonly store: CertificateStore,
    private readonly clusterId?: string,
    private readonly options: grpc.ChannelOptions = {},
  ) {
    this.current = this.open();
    this.unsubscribe = store.onChange(() => this.rotate());
  }

  get client(): grpc.Client {
    return this.current;
  }

  private open(): grpc.Client {
    // A private subchannel pool: a shared one would hand the new client the old connection back.
    // Managers' certificates name "swarm-manager"; an IP address as TLS server name is also deprecated.
    return new grpc.Client(this.address, clientCredentials(this.store, this.clusterId), {
      'grpc.ssl_target_name_override': 'swarm-manager',
      ...this.options,
      'grpc.use_local_subchannel_pool': 1,
    });
  }

  private rotate(): void {
    const old = this.current;
    this.current = this.open();
    this.draining.add(old);
    setTimeout(() => {
      this.draining.delete(old);
      old.close();
    }, DRAIN_MS).unref();
  }

  close(): void {
    this.unsubscribe();
    this.current.close();
    for (const c of this.draining) c.close();
    this.draining.clear();
  }
}
