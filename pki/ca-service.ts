// The CA over gRPC: the root certificate for anyone, certificates for token holders and renewing members.
import * as grpc from '@grpc/grpc-js';
import { InvalidArgument, NotFound, PermissionDenied } from '../api/index.js';
import type { CertificateAuthority, IssueRequest, IssueResponse } from './authority.js';
import type { Authorizer } from './grpc/authz.js';
import { callUnary, serveUnary, unaryMethod } from './grpc/rpc.js';
import { MANAGER_ROLE } from './identity.js';

export const CA_SERVICE = 'tsswarm.CA';
const M = {
  getRootCACertificate: unaryMethod(CA_SERVICE, 'GetRootCACertificate'),
  issueNodeCertificate: unaryMethod(CA_SERVICE, 'IssueNodeCertificate'),
  nodeCertificateStatus: unaryMethod(CA_SERVICE, 'NodeCertificateStatus'),
};

export const caServiceDefinition: grpc.ServiceDefinition = {
  GetRootCACertificate: M.getRootCACertificate,
  IssueNodeCertificate: M.issueNodeCertificate,
  NodeCertificateStatus: M.nodeCertificateStatus,
};

function asIssueRequest(req: unknown): IssueRequest {
  const r = req as Partial<IssueRequest> | null;
  if (!r || typeof r !== 'object' || typeof r.csr !== 'string')
    throw new InvalidArgument('IssueNodeCertificate: csr must be a PEM string');
  if (r.token !== undefined && typeof r.token !== 'string')
    throw new InvalidArgument('IssueNodeCertificate: token must be a string');
  if (r.availability !== undefined && !['active', 'pause', 'drain'].includes(r.availability)) {
    throw new InvalidArgument(`IssueNodeCertificate: invalid availability "${String(r.availability)}"`);
  }
  return r as IssueRequest;
}

/** Registers the CA service on `server`; `ca()` is the current authority (only the leader signs). */
export function addCAService(server: grpc.Server, ca: () => CertificateAuthority, authz: Authorizer): void {
  server.addService(caServiceDefinition, {
    GetRootCACertificate: serveUnary(async () => ({ certPem: ca().rootCA.certPem })),
    IssueNodeCertificate: serveUnary(async (req, call) => {
      const request = asIssueRequest(req);
      // A joining node has no certificate yet; a renewing one proves who it is with its current certificate.
      const caller = request.token ? undefined : await authz.peer(call as never);
      return ca().issue(request, caller);
    }),
    NodeCertificateStatus: serveUnary(async (req, call) => {
      const id = await authz.require(call as never, ['swarm-manager', 'swarm-worker']);
      const nodeId = (req as { nodeId?: unknown })?.nodeId;
      if (typeof nodeId !== 'string')
        throw new InvalidArgument('NodeCertificateStatus: nodeId must be a string');
      if (id.nodeId !== nodeId && id.role !== MANAGER_ROLE)
        throw new PermissionDenied('permission denied: a worker may only ask about itself');
      const certPem = ca().registry.certificateOf(nodeId);
      if (!certPem) throw new NotFound(`node ${nodeId} not found`);
      return { state: 'issued', certPem };
    }),
  });
}

/** Client side of the CA service. */
export class CAClient {
  readonly client: grpc.Client;

  constructor(address: string, credentials: grpc.ChannelCredentials) {
    this.client = new grpc.Client(address, credentials, {
      'grpc.max_receive_message_length': 4 * 1024 * 1024,
      'grpc.ssl_target_name_override': 'swarm-manager',
    });
  }

  rootCertificate(timeoutMs?: number): Promise<{ certPem: string }> {
    return callUnary(this.client, M.getRootCACertificate, {}, timeoutMs);
  }

  issue(req: IssueRequest, timeoutMs?: number): Promise<IssueResponse> {
    return callUnary(this.client, M.issueNodeCertificate, req, timeoutMs);
  }

  status(nodeId: string, timeoutMs?: number): Promise<{ state: string; certPem: string }> {
    return callUnary(this.client, M.nodeCertificateStatus, { nodeId }, timeoutMs);
  }

  close(): void {
    this.client.close();
  }
}
