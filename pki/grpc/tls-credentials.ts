// mTLS credentials for cluster RPC. Certificates come from providers, so a renewed certificate is used for new
// connections without restarting servers or dropping existing connections.
import * as grpc from '@grpc/grpc-js';
import { experimental } from '@grpc/grpc-js';
import type { PeerCertificate } from 'node:tls';
import { MANAGER_ROLE } from '../identity.js';

type CaListener = experimental.CaCertificateUpdateListener;
type IdListener = experimental.IdentityCertificateUpdateListener;

/** Holds the current root CA and node certificate; `update` pushes new material to every user. */
export class CertificateStore implements experimental.CertificateProvider {
  private ca?: Buffer;
  private identity?: { certificate: Buffer; privateKey: Buffer };
  private caListeners = new Set<CaListener>();
  private changeListeners = new Set<() => void>();
  private idListeners = new Set<IdListener>();

  constructor(material?: { rootCaPem: string; certPem?: string; keyPem?: string }) {
    if (material) this.update(material);
  }

  get hasIdentity(): boolean {
    return this.identity !== undefined;
  }

  update(m: { rootCaPem?: string; certPem?: string; keyPem?: string }): void {
    if (m.rootCaPem) {
      this.ca = Buffer.from(m.rootCaPem);
      for (const l of this.caListeners) l({ caCertificate: this.ca });
    }
    if (m.certPem && m.keyPem) {
      this.identity = { certificate: Buffer.from(m.certPem), privateKey: Buffer.from(m.keyPem) };
      for (const l of this.idListeners) l(this.identity);
    }
    for (const l of this.changeListeners) l();
  }

  /** Called after every update (e.g. to move clients onto connections that present the new certificate). */
  onChange(listener: () => void): () => void {
    this.changeListeners.add(listener);
    return () => this.changeListeners.delete(listener);
  }

  // grpc-js registers its own watcher only after adding these listeners, so the current material is
  // delivered on the next microtask, as an asynchronous provider would deliver it.
  addCaCertificateListener(l: CaListener): void {
    this.caListeners.add(l);
    queueMicrotask(() => {
      if (this.ca && this.caListeners.has(l)) l({ caCertificate: this.ca });
    });
  }
  removeCaCertificateListener(l: CaListener): void {
    this.caListeners.delete(l);
  }
  addIdentityCertificateListener(l: IdListener): void {
    this.idListeners.add(l);
    queueMicrotask(() => {
      if (this.identity && this.idListeners.has(l)) l(this.identity);
    });
  }
  removeIdentityCertificateListener(l: IdListener): void {
    this.idListeners.delete(l);
  }
}

/**
 * Server side: TLS with the node's certificate; client certificates are requested and verified by the CA, but
 * not required at the handshake, because a joining node reaches the CA service before it has one. Every
 * method except the CA's join methods then requires a verified certificate (see authz.ts).
 */
export function serverCredentials(store: CertificateStore): grpc.ServerCredentials {
  return experimental.createCertificateProviderServerCredentials(store, store, false);
}

/**
 * Client side: trusts only the cluster's root CA, presents the node certificate when it has one, and accepts
 * only servers whose certificate says swarm-manager (and, when known, the expected cluster).
 */
export function clientCredentials(
  store: CertificateStore,
  expectedClusterId?: string,
): grpc.ChannelCredentials {
  // Without a certificate (a joining node) no identity provider is given, or the channel would wait for one.
  return experimental.createCertificateProviderChannelCredentials(store, store.hasIdentity ? store : null, {
    checkServerIdentity: (_host: string, cert: PeerCertificate) => {
      const ou = cert.subject?.OU;
      if (ou !== MANAGER_ROLE) return new Error(`remote certificate is not a manager's (OU=${String(ou)})`);
      if (expectedClusterId && cert.subject?.O !== expectedClusterId)
        return new Error(`remote manager belongs to cluster ${String(cert.subject?.O)}`);
      return undefined;
    },
  });
}

/**
 * Credentials for fetching the root CA before trusting it: the server's chain is accepted as presented and the
 * caller checks it against the digest in its join token before using anything it says.
 */
export function bootstrapCredentials(): grpc.ChannelCredentials {
  return grpc.credentials.createSsl(null, null, null, {
    rejectUnauthorized: false,
    checkServerIdentity: () => undefined,
  });
}
