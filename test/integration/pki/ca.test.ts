import test from 'ava';
import * as grpc from '@grpc/grpc-js';
import { execFileSync } from 'node:child_process';
import {
  CAClient,
  CertificateStore,
  callUnary,
  clientCredentials,
  createCluster,
  createKeyAndCSR,
  joinRequest,
  renewCertificate,
  x509,
  type NodeCredentials,
} from '../../../pki/index.js';
import { MANAGER_ONLY, startPkiServer, type PkiServer } from './pki-server.js';

let srv: PkiServer;
test.before(async () => {
  srv = await startPkiServer();
});
test.after.always(async () => {
  await srv?.stop();
});

function clientFor(creds: NodeCredentials, clusterId?: string): grpc.Client {
  const store = new CertificateStore({
    rootCaPem: creds.rootCaPem,
    certPem: creds.certPem,
    keyPem: creds.keyPem,
  });
  return new grpc.Client(srv.address, clientCredentials(store, clusterId), {
    'grpc.ssl_target_name_override': 'swarm-manager',
  });
}

test.serial(
  'workers and managers join with their tokens and get certificates with the right CN/OU/O',
  async (t) => {
    const worker = await joinRequest(srv.address, srv.cluster.tokens.worker);
    const manager = await joinRequest(srv.address, srv.cluster.tokens.manager);
    for (const [j, ou] of [
      [worker, 'swarm-worker'],
      [manager, 'swarm-manager'],
    ] as const) {
      const cert = new x509.X509Certificate(j.credentials.certPem);
      t.is(cert.subject, `O=${srv.cluster.clusterId}, OU=${ou}, CN=${j.nodeId}`);
      t.is(j.clusterId, srv.cluster.clusterId);
      const san = cert.getExtension(x509.SubjectAlternativeNameExtension)!;
      const dns = san.names.items.map((n) => n.value);
      t.deepEqual(dns, ou === 'swarm-manager' ? [j.nodeId, 'swarm-manager'] : [j.nodeId]);
      const days = (cert.notAfter.getTime() - cert.notBefore.getTime()) / 86400e3;
      t.true(days > 89.9 && days < 90.1, `90-day validity, got ${days}`);
    }
    t.is(srv.registry.roleOf(worker.nodeId), 'swarm-worker');
    t.not(worker.nodeId, manager.nodeId);
  },
);

test.serial('a wrong or rotated-away token is refused with "invalid join token"', async (t) => {
  const old = srv.cluster.authority.joinTokens.worker;
  srv.cluster.authority.rotateToken('worker');
  await t.throwsAsync(joinRequest(srv.address, old), { message: 'invalid join token', instanceOf: Error });
  const err = await t.throwsAsync(joinRequest(srv.address, old));
  t.is(err!.name, 'PermissionDenied');
  // A token of the right form for this CA but with a made-up secret.
  const forged = srv.cluster.authority.joinTokens.worker.replace(/-[0-9a-z]{25}$/, '-' + 'a'.repeat(25));
  await t.throwsAsync(joinRequest(srv.address, forged), { message: 'invalid join token' });
  const fresh = await joinRequest(srv.address, srv.cluster.authority.joinTokens.worker);
  t.truthy(fresh.nodeId);
});

test.serial('malformed tokens give precise reasons', async (t) => {
  await t.throwsAsync(joinRequest(srv.address, 'SWMTKN-2-abc'), {
    message: /^invalid join token: expected 4 dash-separated parts/,
  });
  await t.throwsAsync(joinRequest(srv.address, 'XYZ-1-a-b'), {
    message: 'invalid join token: must start with SWMTKN-1-',
  });
  await t.throwsAsync(joinRequest(srv.address, `SWMTKN-1-${'a'.repeat(49)}-${'b'.repeat(25)}`), {
    message: 'invalid join token: CA digest has 49 characters, expected 50',
  });
  await t.throwsAsync(joinRequest(srv.address, `SWMTKN-1-${'A'.repeat(50)}-${'b'.repeat(25)}`), {
    message: 'invalid join token: CA digest has characters outside [0-9a-z]',
  });
});

test.serial(
  'a token whose digest does not match the CA reached: the client refuses before sending its CSR',
  async (t) => {
    const other = await createCluster();
    let csrSeen = false;
    const origIssue = srv.cluster.authority.issue.bind(srv.cluster.authority);
    srv.cluster.authority.issue = async (...args) => {
      csrSeen = true;
      return origIssue(...args);
    };
    try {
      // The attacker (srv) sits where the victim expects the swarm that issued `other.tokens`.
      await t.throwsAsync(joinRequest(srv.address, other.tokens.worker), {
        message: /does not match the join token/,
      });
      t.false(csrSeen, 'no CSR reached the impostor');
    } finally {
      srv.cluster.authority.issue = origIssue;
    }
  },
);

test.serial('role checks: a worker is denied a manager-only method, a manager is allowed', async (t) => {
  const worker = await joinRequest(srv.address, srv.cluster.authority.joinTokens.worker);
  const manager = await joinRequest(srv.address, srv.cluster.authority.joinTokens.manager);
  const wc = clientFor(worker.credentials);
  const mc = clientFor(manager.credentials);
  try {
    await t.throwsAsync(callUnary(wc, MANAGER_ONLY, {}), {
      message: 'permission denied: swarm-worker may not call this method',
    });
    t.deepEqual(await callUnary(mc, MANAGER_ONLY, {}), { caller: manager.nodeId });
  } finally {
    wc.close();
    mc.close();
  }
});

test("another cluster's certificate: the TLS handshake fails, and its RPCs are refused even without server checks", async (t) => {
  const other = await createCluster();
  const c = clientFor(other.credentials);
  try {
    const err = await t.throwsAsync(callUnary(c, MANAGER_ONLY, {}, 5000));
    t.regex(err!.message, /self-signed|certificate|unable to verify|UNAVAILABLE|connect/i);
  } finally {
    c.close();
  }
  // Trusting our root but holding the other cluster's node certificate: OpenSSL does not offer a certificate
  // the server's CA list does not name, so the call arrives without one and is refused.
  const mixed = clientFor({ ...other.credentials, rootCaPem: srv.cluster.credentials.rootCaPem });
  try {
    await t.throwsAsync(callUnary(mixed, MANAGER_ONLY, {}), { message: 'a client certificate is required' });
  } finally {
    mixed.close();
  }
});

test.serial('a removed node is denied, and cannot renew', async (t) => {
  const m = await joinRequest(srv.address, srv.cluster.authority.joinTokens.manager);
  srv.registry.remove(m.nodeId);
  const c = clientFor(m.credentials);
  try {
    await t.throwsAsync(callUnary(c, MANAGER_ONLY, {}), {
      message: `node ${m.nodeId} was removed from the swarm`,
    });
  } finally {
    c.close();
  }
  await t.throwsAsync(renewCertificate(srv.address, m.credentials), {
    message: `node ${m.nodeId} was removed from the swarm`,
  });
});

test.serial('bad input: garbage CSR, wrong key type, oversized request; the server stays up', async (t) => {
  const c = new CAClient(
    srv.address,
    clientCredentials(new CertificateStore({ rootCaPem: srv.cluster.credentials.rootCaPem })),
  );
  const token = srv.cluster.authority.joinTokens.worker;
  try {
    await t.throwsAsync(c.issue({ csr: 'not a csr', token }), { message: /^invalid CSR: / });
    const rsa = execFileSync(
      'openssl',
      ['req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', '/dev/null', '-subj', '/CN=x'],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] },
    );
    await t.throwsAsync(c.issue({ csr: rsa, token }), {
      message: 'invalid CSR: key must be ECDSA P-256 (got RSASSA-PKCS1-v1_5)',
    });
    await t.throwsAsync(c.issue({ csr: 'x'.repeat(1.5 * 1024 * 1024), token }), {
      message: /^invalid CSR: 1572864 bytes \(maximum 16384\)/,
    });
    await t.throwsAsync(c.issue({ csr: 'x'.repeat(5 * 1024 * 1024), token }), {
      message: /larger than max/i,
    });
    await t.throwsAsync(c.issue({ csr: 42 as never, token }), {
      message: 'IssueNodeCertificate: csr must be a PEM string',
    });
    await t.throwsAsync(
      c.issue({ csr: (await createKeyAndCSR()).csrPem, token, availability: 'sleepy' as never }),
      { message: /invalid availability "sleepy"/ },
    );
    // Still serving.
    t.is((await c.rootCertificate()).certPem, srv.cluster.credentials.rootCaPem);
  } finally {
    c.close();
  }
});
