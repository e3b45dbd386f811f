// Per-method authorization from the caller's certificate: verified chain, this cluster, allowed role, not removed.
import type * as grpc from '@grpc/grpc-js';
import { PermissionDenied } from '../../api/index.js';
import { identityOf, verifyNodeCertificate, type RootCA } from '../certificates.js';
import { x509 } from '../crypto.js';
import type { NodeIdentity, NodeRole } from '../identity.js';

export interface AuthorizerOptions {
  rootCA: () => RootCA;
  clusterId: () => string;
  /** Node IDs removed from the cluster: their certificates are refused even while still valid. */
  isRemoved: (nodeId: string) => boolean;
  now?: () => number;
}

type ServerCall = {
  getAuthContext(): { sslPeerCertificate?: { raw?: Buffer } } | null;
  getPath?: () => string;
};

export class Authorizer {
  // Verified certificates by DER (signature checks are the costly part); expiry is re-checked on every call.
  private verified = new Map<string, { cert: x509.X509Certificate; identity: NodeIdentity }>();

  constructor(private readonly o: AuthorizerOptions) {}

  /** The caller's verified identity, or undefined when it presented no certificate. */
  async peer(call: ServerCall): Promise<NodeIdentity | undefined> {
    const raw = call.getAuthContext()?.sslPeerCertificate?.raw;
    if (!raw || raw.length === 0) return undefined;
    const key = raw.toString('base64');
    let hit = this.verified.get(key);
    if (!hit) {
      const cert = new x509.X509Certificate(raw);
      await verifyNodeCertificate(this.o.rootCA(), cert, this.o.now?.());
      const identity = identityOf(cert);
      if (!identity) throw new PermissionDenied('certificate does not name a swarm node');
      hit = { cert, identity };
      if (this.verified.size > 10_000) this.verified.clear();
      this.verified.set(key, hit);
    }
    const now = this.o.now?.() ?? Date.now();
    if (now > hit.cert.notAfter.getTime())
      throw new PermissionDenied(`certificate expired at ${hit.cert.notAfter.toISOString()}`);
    if (hit.identity.clusterId !== this.o.clusterId())
      throw new PermissionDenied(`certificate belongs to another cluster (${hit.identity.clusterId})`);
    if (this.o.isRemoved(hit.identity.nodeId))
      throw new PermissionDenied(`node ${hit.identity.nodeId} was removed from the swarm`);
    return hit.identity;
  }

  /** Requires a verified certificate whose role is in `roles`. */
  async require(
    call: grpc.ServerUnaryCall<unknown, unknown> | ServerCall,
    roles: readonly NodeRole[],
  ): Promise<NodeIdentity> {
    const id = await this.peer(call as ServerCall);
    if (!id) throw new PermissionDenied('a client certificate is required');
    if (!roles.includes(id.role))
      throw new PermissionDenied(`permission denied: ${id.role} may not call this method`);
    return id;
  }
}
