import test from 'ava';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { joinRequest } from '../../pki/index.js';
import { startPkiServer, type PkiServer } from '../integration/pki/pki-server.js';
import { tempDir } from '../support/temp.js';

let srv: PkiServer;
test.before(async () => {
  srv = await startPkiServer();
});
test.after.always(async () => {
  await srv?.stop();
});

test('openssl parses the certificates: prime256v1 keys and the subject fields', async (t) => {
  const j = await joinRequest(srv.address, srv.cluster.tokens.manager);
  const dir = tempDir();
  try {
    writeFileSync(join(dir.path, 'node.crt'), j.credentials.certPem);
    writeFileSync(join(dir.path, 'ca.crt'), j.credentials.rootCaPem);
    const node = execFileSync('openssl', ['x509', '-noout', '-text', '-in', join(dir.path, 'node.crt')], {
      encoding: 'utf8',
    });
    t.regex(node, /ASN1 OID: prime256v1/);
    t.regex(node, /Signature Algorithm: ecdsa-with-SHA256/);
    t.regex(
      node,
      new RegExp(`Subject: O ?= ?${srv.cluster.clusterId}, OU ?= ?swarm-manager, CN ?= ?${j.nodeId}`),
    );
    t.regex(node, /TLS Web Server Authentication, TLS Web Client Authentication/);
    const root = execFileSync('openssl', ['x509', '-noout', '-text', '-in', join(dir.path, 'ca.crt')], {
      encoding: 'utf8',
    });
    t.regex(root, /Subject: CN ?= ?swarm-ca/);
    t.regex(root, /CA:TRUE/);
    t.regex(root, /ASN1 OID: prime256v1/);
    const verify = execFileSync(
      'openssl',
      ['verify', '-CAfile', join(dir.path, 'ca.crt'), join(dir.path, 'node.crt')],
      { encoding: 'utf8' },
    );
    t.regex(verify, /: OK/);
  } finally {
    dir.remove();
  }
});
