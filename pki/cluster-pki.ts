// The small PKI API the cluster uses: create a cluster's CA, join one, renew.
import { PermissionDenied, newId } from '../api/index.js';
import {
  CertificateAuthority,
  MemoryNodeRegistry,
  type Availability,
  type JoinTokens,
  type NodeRegistry,
} from './authority.js';
import { CAClient } from './ca-service.js';
import {
  createKeyAndCSR,
  createRootCA,
  identityOf,
  loadRootCA,
  rootDigest,
  signNodeCertificate,
  verifyNodeCertificate,
} from './certificates.js';
import { x509 } from './crypto.js';
import { saveNodeCredentials, type NodeCredentials } from './files.js';
import { bootstrapCredentials, clientCredentials, CertificateStore } from './grpc/tls-credentials.js';
import { MANAGER_ROLE } from './identity.js';
import { parseJoinToken } from './join-token.js';
import { CertificateRenewer } from './renewal.js';

export interface NewCluster {
  clusterId: string;
  nodeId: string;
  credentials: NodeCredentials;
  authority: CertificateAuthority;
  tokens: JoinTokens;
}

/** `swarm init`: a new root CA, and the first manager's certificate signed with it. */
export async function createCluster(
  o: { registry?: NodeRegistry; validityMs?: number } = {},
): Promise<NewCluster> {
  const root = await createRootCA();
  const clusterId = newId();
  const nodeId = newId();
  const authority = new CertificateAuthority({
    rootCA: root,
    clusterId,
    registry: o.registry ?? new MemoryNodeRegistry(),
    validityMs: o.validityMs,
  });
  const { keyPem, csrPem } = await createKeyAndCSR();
  const certPem = await signNodeCertificate(root, csrPem, {
    nodeId,
    role: MANAGER_ROLE,
    clusterId,
    validityMs: authority.validityMs,
  });
  await authority.registry.register({ nodeId, role: MANAGER_ROLE, availability: 'active', certPem });
  return {
    clusterId,
    nodeId,
    authority,
    tokens: authority.joinTokens,
    credentials: { rootCaPem: root.certPem, certPem, keyPem, caKeyPem: root.keyPem },
  };
}

export interface Joined {
  nodeId: string;
  clusterId: string;
  credentials: NodeCredentials;
}

/**
 * `swarm join`: fetches the root CA without trusting it, checks it against the token's digest (refusing before
 * sending anything else on a mismatch), then sends a CSR over TLS that trusts only that root.
 */
export async function joinRequest(
  address: string,
  token: string,
  o: { availability?: Availability; timeoutMs?: number } = {},
): Promise<Joined> {
  const parsed = parseJoinToken(token);
  const boot = new CAClient(address, bootstrapCredentials());
  let rootPem: string;
  try {
    rootPem = (await boot.rootCertificate(o.timeoutMs)).certPem;
  } finally {
    boot.close();
  }
  const root = loadRootCA(rootPem);
  if (!rootDigest(root).equals(parsed.caDigest)) {
    throw new PermissionDenied(
      `remote CA at ${address} does not match the join token (wrong swarm, or a man-in-the-middle)`,
    );
  }
  const { keyPem, csrPem } = await createKeyAndCSR();
  const client = new CAClient(address, clientCredentials(new CertificateStore({ rootCaPem: rootPem })));
  try {
    const res = await client.issue({ csr: csrPem, token, availability: o.availability }, o.timeoutMs);
    const cert = new x509.X509Certificate(res.certPem);
    await verifyNodeCertificate(root, cert);
    const id = identityOf(cert);
    if (!id || id.nodeId !== res.nodeId)
      throw new PermissionDenied('issued certificate does not name the node ID the CA returned');
    return {
      nodeId: res.nodeId,
      clusterId: id.clusterId,
      credentials: { rootCaPem: rootPem, certPem: res.certPem, keyPem },
    };
  } finally {
    client.close();
  }
}

/** A member renews its certificate with a new key, authenticated by its current one. */
export async function renewCertificate(
  address: string,
  current: NodeCredentials,
  o: { timeoutMs?: number } = {},
): Promise<NodeCredentials> {
  const { keyPem, csrPem } = await createKeyAndCSR();
  const store = new CertificateStore({
    rootCaPem: current.rootCaPem,
    certPem: current.certPem,
    keyPem: current.keyPem,
  });
  const client = new CAClient(address, clientCredentials(store));
  try {
    const res = await client.issue({ csr: csrPem }, o.timeoutMs);
    await verifyNodeCertificate(loadRootCA(current.rootCaPem), new x509.X509Certificate(res.certPem));
    return { ...current, certPem: res.certPem, keyPem };
  } finally {
    client.close();
  }
}

/** Validity window of a PEM certificate, for the renewer. */
export function validityOf(certPem: string): { notBefore: number; notAfter: number } {
  const c = new x509.X509Certificate(certPem);
  return { notBefore: c.notBefore.getTime(), notAfter: c.notAfter.getTime() };
}

/**
 * The node's renewer: at 50–80 % of each certificate's life, renews from a manager, writes the files (when a
 * directory is given) and pushes the new certificate to `store`, so servers and ClusterChannels pick it up.
 */
export function renewer(o: {
  /** A manager to renew from, asked at every attempt (the leader may have moved). */
  address: () => string;
  store: CertificateStore;
  credentials: NodeCredentials;
  certDir?: string;
  minBackoffMs?: number;
  maxBackoffMs?: number;
}): CertificateRenewer & { readonly credentials: NodeCredentials } {
  let current = o.credentials;
  const r = new CertificateRenewer({
    validity: () => validityOf(current.certPem),
    renew: async () => {
      const next = await renewCertificate(o.address(), current);
      if (o.certDir) saveNodeCredentials(o.certDir, next);
      current = next;
      o.store.update(next);
    },
    minBackoffMs: o.minBackoffMs,
    maxBackoffMs: o.maxBackoffMs,
  });
  return Object.defineProperty(r, 'credentials', { get: () => current }) as CertificateRenewer & {
    readonly credentials: NodeCredentials;
  };
}
