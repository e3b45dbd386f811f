// pki/: the cluster CA, join tokens, node certificates, mutual-TLS credentials and per-method authorization.
export {
  createCluster,
  joinRequest,
  renewCertificate,
  renewer,
  validityOf,
  type NewCluster,
  type Joined,
} from './cluster-pki.js';
export {
  CertificateAuthority,
  MemoryNodeRegistry,
  type NodeRegistry,
  type JoinTokens,
  type IssueRequest,
  type IssueResponse,
  type Availability,
} from './authority.js';
export {
  createRootCA,
  loadRootCA,
  rootDigest,
  createKeyAndCSR,
  parseCSR,
  signNodeCertificate,
  identityOf,
  verifyNodeCertificate,
  type RootCA,
} from './certificates.js';
export { newJoinToken, parseJoinToken } from './join-token.js';
export { saveNodeCredentials, loadNodeCredentials, writeFileAtomic, type NodeCredentials } from './files.js';
export { renewalTime, retryBackoff, CertificateRenewer, type RenewerOptions } from './renewal.js';
export { addCAService, CAClient, CA_SERVICE } from './ca-service.js';
export {
  CertificateStore,
  serverCredentials,
  clientCredentials,
  bootstrapCredentials,
} from './grpc/tls-credentials.js';
export { Authorizer, type AuthorizerOptions } from './grpc/authz.js';
export { ClusterChannel } from './grpc/cluster-channel.js';
export { rpcMethod, unaryMethod, serveUnary, callUnary, errorFromStatus } from './grpc/rpc.js';
export { MANAGER_ROLE, WORKER_ROLE, type NodeIdentity, type NodeRole } from './identity.js';
export { x509 } from './crypto.js';
