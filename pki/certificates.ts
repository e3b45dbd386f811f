// The cluster's root CA and node certificates: creating, signing CSRs, parsing and verifying.
import { randomBytes, createHash } from 'node:crypto';
import { InvalidArgument, PermissionDenied } from '../api/index.js';
import {
  EC_ALGORITHM,
  SIGNING_ALGORITHM,
  generateKeyPair,
  x509,
  exportPrivateKeyPem,
  importPrivateKeyPem,
  type CryptoKey,
} from './crypto.js';
import { MANAGER_ROLE, dnAttribute, roleFromOU, type NodeIdentity, type NodeRole } from './identity.js';

export const ROOT_CA_VALIDITY_MS = 20 * 365 * 24 * 3600 * 1000;
export const DEFAULT_NODE_CERT_VALIDITY_MS = 90 * 24 * 3600 * 1000;
/** Certificates are back-dated a little so small clock differences between nodes do not reject them. */
const BACKDATE_MS = 60 * 1000;
/** CSRs are a few hundred bytes; anything larger is not a CSR we issue for. */
export const MAX_CSR_BYTES = 16 * 1024;

function serial(): string {
  const b = randomBytes(16);
  b[0]! &= 0x7f;
  return b.toString('hex');
}

export interface RootCA {
  certPem: string;
  /** Present only on managers (the signers). */
  keyPem?: string;
  cert: x509.X509Certificate;
}

export async function createRootCA(now = Date.now()): Promise<RootCA> {
  const keys = await generateKeyPair();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: 'CN=swarm-ca',
    notBefore: new Date(now - BACKDATE_MS),
    notAfter: new Date(now + ROOT_CA_VALIDITY_MS),
    keys,
    signingAlgorithm: SIGNING_ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(true, 1, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature,
        true,
      ),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { certPem: cert.toString('pem') + '\n', keyPem: await exportPrivateKeyPem(keys.privateKey), cert };
}

export function loadRootCA(certPem: string, keyPem?: string): RootCA {
  return { certPem, keyPem, cert: new x509.X509Certificate(certPem) };
}

/** sha256 of the root certificate's DER: what join tokens pin. */
export function rootDigest(ca: RootCA | x509.X509Certificate): Buffer {
  const cert = 'rawData' in ca ? ca : ca.cert;
  return createHash('sha256').update(Buffer.from(cert.rawData)).digest();
}

/** A new key pair and a CSR for it; the key never leaves the caller. */
export async function createKeyAndCSR(): Promise<{ keyPem: string; csrPem: string }> {
  const keys = await generateKeyPair();
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: 'CN=tsswarm-node',
    keys,
    signingAlgorithm: SIGNING_ALGORITHM,
  });
  return { keyPem: await exportPrivateKeyPem(keys.privateKey), csrPem: csr.toString('pem') };
}

/** Parses and checks a CSR: well-formed, self-signed by its key, and an ECDSA P-256 key. */
export async function parseCSR(csrPem: unknown): Promise<x509.Pkcs10CertificateRequest> {
  if (typeof csrPem !== 'string' || csrPem.length === 0) throw new InvalidArgument('invalid CSR: missing');
  if (csrPem.length > MAX_CSR_BYTES)
    throw new InvalidArgument(`invalid CSR: ${csrPem.length} bytes (maximum ${MAX_CSR_BYTES})`);
  let csr: x509.Pkcs10CertificateRequest;
  try {
    csr = new x509.Pkcs10CertificateRequest(csrPem);
  } catch (err) {
    throw new InvalidArgument(`invalid CSR: ${(err as Error).message}`);
  }
  const alg = csr.publicKey.algorithm as { name: string; namedCurve?: string };
  if (alg.name !== 'ECDSA' || alg.namedCurve !== EC_ALGORITHM.namedCurve) {
    throw new InvalidArgument(
      `invalid CSR: key must be ECDSA P-256 (got ${alg.name}${alg.namedCurve ? ` ${alg.namedCurve}` : ''})`,
    );
  }
  if (!(await csr.verify())) throw new InvalidArgument('invalid CSR: signature does not verify');
  return csr;
}

export interface IssueOptions {
  nodeId: string;
  role: NodeRole;
  clusterId: string;
  validityMs?: number;
  now?: number;
}

// Imported once per CA: parsing the PEM key costs more than a signature.
const signingKeys = new WeakMap<RootCA, Promise<CryptoKey>>();
function signingKeyOf(ca: RootCA): Promise<CryptoKey> {
  let k = signingKeys.get(ca);
  if (!k) signingKeys.set(ca, (k = importPrivateKeyPem(ca.keyPem!)));
  return k;
}

/** Signs a node certificate for the CSR's key with the root CA. */
export async function signNodeCertificate(ca: RootCA, csrPem: string, o: IssueOptions): Promise<string> {
  if (!ca.keyPem) throw new PermissionDenied('this node holds no CA signing key');
  const csr = await parseCSR(csrPem);
  const now = o.now ?? Date.now();
  const caKey = await signingKeyOf(ca);
  const names = [{ type: 'dns' as const, value: o.nodeId }];
  if (o.role === MANAGER_ROLE) names.push({ type: 'dns', value: MANAGER_ROLE });
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: `O=${o.clusterId}, OU=${o.role}, CN=${o.nodeId}`,
    issuer: ca.cert.subject,
    notBefore: new Date(now - BACKDATE_MS),
    notAfter: new Date(now + (o.validityMs ?? DEFAULT_NODE_CERT_VALIDITY_MS)),
    signingKey: caKey,
    publicKey: csr.publicKey,
    signingAlgorithm: SIGNING_ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment,
        true,
      ),
      new x509.ExtendedKeyUsageExtension([
        x509.ExtendedKeyUsage.serverAuth,
        x509.ExtendedKeyUsage.clientAuth,
      ]),
      new x509.SubjectAlternativeNameExtension(names),
      await x509.AuthorityKeyIdentifierExtension.create(ca.cert),
    ],
  });
  return cert.toString('pem') + '\n';
}

/** The identity in a node certificate, or undefined when it is not one of ours. */
export function identityOf(cert: x509.X509Certificate): NodeIdentity | undefined {
  const nodeId = dnAttribute(cert.subject, 'CN');
  const role = roleFromOU(dnAttribute(cert.subject, 'OU'));
  const clusterId = dnAttribute(cert.subject, 'O');
  return nodeId && role && clusterId ? { nodeId, role, clusterId } : undefined;
}

/** Checks a node certificate was signed by `ca` and is valid at `now`. */
export async function verifyNodeCertificate(
  ca: RootCA,
  cert: x509.X509Certificate,
  now = Date.now(),
): Promise<void> {
  if (
    cert.issuer !== ca.cert.subject ||
    !(await cert.verify({ publicKey: ca.cert.publicKey, signatureOnly: true }))
  ) {
    throw new PermissionDenied('certificate signed by unknown authority');
  }
  if (now < cert.notBefore.getTime()) throw new PermissionDenied('certificate is not yet valid');
  if (now > cert.notAfter.getTime())
    throw new PermissionDenied(`certificate expired at ${cert.notAfter.toISOString()}`);
}
