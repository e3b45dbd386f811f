// This node's certificate and key on disk, shared by its agent and manager, renewed before expiry and on role change.
import { FailedPrecondition, type Logger } from '../../api/index.js';
import {
  CertificateRenewer,
  CertificateStore,
  identityOf,
  loadNodeCredentials,
  renewCertificate,
  saveNodeCredentials,
  validityOf,
  x509,
  type NodeCredentials,
  type NodeRole,
} from '../../pki/index.js';

export class NodeIdentityFiles {
  readonly store: CertificateStore;
  private current: NodeCredentials;
  private readonly renewer: CertificateRenewer;

  private constructor(
    private readonly dir: string,
    private readonly managers: () => string[],
    log: Logger,
  ) {
    const loaded = loadNodeCredentials(dir);
    if (!loaded) throw new FailedPrecondition(`no node certificate in ${dir}`);
    this.current = loaded;
    this.store = new CertificateStore(this.current);
    this.renewer = new CertificateRenewer({
      validity: () => validityOf(this.current.certPem),
      renew: async () => {
        const via = this.managers()[0];
        if (!via) throw new Error('no manager known to renew the certificate from');
        await this.renew(via);
      },
      log: log.child({ component: 'cert-renewer' }),
    });
    this.renewer.start();
  }

  /** Loads `dir`'s credentials and starts renewing them at 50–80 % of their life. */
  static load(dir: string, log: Logger, managers: () => string[]): NodeIdentityFiles {
    return new NodeIdentityFiles(dir, managers, log);
  }

  get credentials(): NodeCredentials {
    return this.current;
  }

  get role(): NodeRole {
    return identityOf(new x509.X509Certificate(this.current.certPem))!.role;
  }

  /** A new certificate from the CA at `via`, carrying the role the cluster now wants; returns that role. */
  async renew(via: string): Promise<NodeRole> {
    const next = await renewCertificate(via, this.current, { timeoutMs: 10_000 });
    saveNodeCredentials(this.dir, next);
    this.current = next;
    this.store.update(next);
    return this.role;
  }

  stop(): void {
    this.renewer.stop();
  }
}
