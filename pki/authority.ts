// The certificate authority a manager runs: join tokens, issuing node certificates, renewals.
import { PermissionDenied, newId } from '../api/index.js';
import {
  rootDigest,
  signNodeCertificate,
  DEFAULT_NODE_CERT_VALIDITY_MS,
  type RootCA,
} from './certificates.js';
import { newJoinToken, parseJoinToken, tokensEqual } from './join-token.js';
import { MANAGER_ROLE, WORKER_ROLE, type NodeIdentity, type NodeRole } from './identity.js';

export type Availability = 'active' | 'pause' | 'drain';

/** What the CA needs from the cluster state; the manager implements it over its store. */
export interface NodeRegistry {
  isRemoved(nodeId: string): boolean;
  /** The role the cluster wants for a node now (promotion/demotion), used when it renews. */
  roleOf(nodeId: string): NodeRole | undefined;
  register(record: {
    nodeId: string;
    role: NodeRole;
    availability: Availability;
    certPem: string;
  }): void | Promise<void>;
  certificateOf(nodeId: string): string | undefined;
}

/** A registry kept in memory (a standalone CA, tests); the cluster keeps this in its replicated store instead. */
export class MemoryNodeRegistry implements NodeRegistry {
  readonly nodes = new Map<string, { role: NodeRole; availability: Availability; certPem: string }>();
  readonly removed = new Set<string>();

  isRemoved(id: string): boolean {
    return this.removed.has(id);
  }
  roleOf(id: string): NodeRole | undefined {
    return this.nodes.get(id)?.role;
  }
  register(r: { nodeId: string; role: NodeRole; availability: Availability; certPem: string }): void {
    this.nodes.set(r.nodeId, { role: r.role, availability: r.availability, certPem: r.certPem });
  }
  certificateOf(id: string): string | undefined {
    return this.nodes.get(id)?.certPem;
  }
  remove(id: string): void {
    this.removed.add(id);
  }
}

export interface JoinTokens {
  worker: string;
  manager: string;
}

export interface IssueRequest {
  csr: string;
  token?: string;
  availability?: Availability;
}

export interface IssueResponse {
  nodeId: string;
  certPem: string;
  rootCaPem: string;
}

export interface AuthorityOptions {
  rootCA: RootCA;
  clusterId: string;
  registry: NodeRegistry;
  tokens?: JoinTokens;
  /** Validity of node certificates (90 days by default; seconds in tests). */
  validityMs?: number;
  /** Where the current tokens live when they are replicated state (the cluster object); overrides `tokens`. */
  tokenSource?: () => JoinTokens | undefined;
}

export class CertificateAuthority {
  readonly rootCA: RootCA;
  readonly clusterId: string;
  readonly registry: NodeRegistry;
  validityMs: number;
  private tokens: JoinTokens;
  private readonly tokenSource?: () => JoinTokens | undefined;

  constructor(o: AuthorityOptions) {
    this.rootCA = o.rootCA;
    this.clusterId = o.clusterId;
    this.registry = o.registry;
    this.validityMs = o.validityMs ?? DEFAULT_NODE_CERT_VALIDITY_MS;
    const digest = rootDigest(o.rootCA);
    this.tokens = o.tokens ?? { worker: newJoinToken(digest), manager: newJoinToken(digest) };
    this.tokenSource = o.tokenSource;
  }

  get joinTokens(): JoinTokens {
    return { ...(this.tokenSource?.() ?? this.tokens) };
  }

  /** Replaces a role's token; the old one stops working at once. */
  rotateToken(role: 'worker' | 'manager'): string {
    this.tokens = { ...this.tokens, [role]: newJoinToken(rootDigest(this.rootCA)) };
    return this.tokens[role];
  }

  private roleForToken(token: string): NodeRole {
    const parsed = parseJoinToken(token);
    if (!parsed.caDigest.equals(rootDigest(this.rootCA)))
      throw new PermissionDenied('invalid join token: it was issued by another swarm');
    const current = this.joinTokens;
    if (tokensEqual(token, current.manager)) return MANAGER_ROLE;
    if (tokensEqual(token, current.worker)) return WORKER_ROLE;
    throw new PermissionDenied('invalid join token');
  }

  /**
   * A joining node presents a token (its role comes from the token, its ID is new); a member renewing presents
   * its current certificate and no token (its role is what the cluster now wants for it).
   */
  async issue(req: IssueRequest, caller?: NodeIdentity): Promise<IssueResponse> {
    let nodeId: string;
    let role: NodeRole;
    if (req.token) {
      role = this.roleForToken(req.token);
      nodeId = newId();
    } else if (caller) {
      if (this.registry.isRemoved(caller.nodeId))
        throw new PermissionDenied(`node ${caller.nodeId} was removed from the swarm`);
      nodeId = caller.nodeId;
      role = this.registry.roleOf(nodeId) ?? caller.role;
    } else {
      throw new PermissionDenied('a join token or a valid node certificate is required');
    }
    const certPem = await signNodeCertificate(this.rootCA, req.csr, {
      nodeId,
      role,
      clusterId: this.clusterId,
      validityMs: this.validityMs,
    });
    await this.registry.register({ nodeId, role, availability: req.availability ?? 'active', certPem });
    return { nodeId, certPem, rootCaPem: this.rootCA.certPem };
  }
}
