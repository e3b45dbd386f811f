// Credential files under <data-root>/swarm/certificates, written 0600 atomically (temp, fsync, rename).
import {
  openSync,
  writeSync,
  fsyncSync,
  closeSync,
  renameSync,
  mkdirSync,
  readFileSync,
  existsSync,
} from 'node:fs';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { FailedPrecondition } from '../api/index.js';
import { dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';

export const ROOT_CA_FILE = 'swarm-root-ca.crt';
export const ROOT_CA_KEY_FILE = 'swarm-root-ca.key';
export const NODE_CERT_FILE = 'swarm-node.crt';
export const NODE_KEY_FILE = 'swarm-node.key';

export function writeFileAtomic(path: string, data: string | Buffer, mode = 0o600): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.tmp-${randomBytes(4).toString('hex')}`;
  const fd = openSync(tmp, 'w', mode);
  try {
    writeSync(fd, typeof data === 'string' ? Buffer.from(data) : data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  const dfd = openSync(dirname(path), 'r');
  try {
    fsyncSync(dfd);
  } finally {
    closeSync(dfd);
  }
}

export interface NodeCredentials {
  rootCaPem: string;
  certPem: string;
  keyPem: string;
  /** Only managers keep the CA key. */
  caKeyPem?: string;
}

export function saveNodeCredentials(dir: string, c: NodeCredentials): void {
  writeFileAtomic(join(dir, ROOT_CA_FILE), c.rootCaPem);
  // Key before certificate: a crash in between leaves an old certificate with a new key, which fails to load
  // cleanly (see loadNodeCredentials) rather than a new certificate with no matching key on disk.
  writeFileAtomic(join(dir, NODE_KEY_FILE), c.keyPem);
  writeFileAtomic(join(dir, NODE_CERT_FILE), c.certPem);
  if (c.caKeyPem) writeFileAtomic(join(dir, ROOT_CA_KEY_FILE), c.caKeyPem);
}

export function loadNodeCredentials(dir: string): NodeCredentials | undefined {
  const cert = join(dir, NODE_CERT_FILE);
  if (!existsSync(cert)) return undefined;
  const caKey = join(dir, ROOT_CA_KEY_FILE);
  const creds: NodeCredentials = {
    rootCaPem: readFileSync(join(dir, ROOT_CA_FILE), 'utf8'),
    certPem: readFileSync(cert, 'utf8'),
    keyPem: readFileSync(join(dir, NODE_KEY_FILE), 'utf8'),
  };
  if (existsSync(caKey)) creds.caKeyPem = readFileSync(caKey, 'utf8');
  let matches: boolean;
  try {
    matches = new X509Certificate(creds.certPem).checkPrivateKey(createPrivateKey(creds.keyPem));
  } catch (err) {
    throw new FailedPrecondition(`node credentials in ${dir} are unreadable: ${(err as Error).message}`);
  }
  if (!matches) throw new FailedPrecondition(`node certificate in ${dir} does not match its key`);
  return creds;
}
