import test from 'ava';
import {
  Authorizer,
  createCluster,
  joinRequest,
  newJoinToken,
  parseJoinToken,
  renewalTime,
  rootDigest,
  signNodeCertificate,
  createKeyAndCSR,
  x509,
} from '../../../pki/index.js';

function callWith(certPem?: string) {
  const raw = certPem ? Buffer.from(new x509.X509Certificate(certPem).rawData) : undefined;
  return { getAuthContext: () => ({ sslPeerCertificate: raw ? { raw } : undefined }) };
}

test('the authorizer verifies chain, cluster, expiry, removal and role', async (t) => {
  const ours = await createCluster();
  const theirs = await createCluster();
  const removed = new Set<string>();
  let now = Date.now();
  const authz = new Authorizer({
    rootCA: () => ours.authority.rootCA,
    clusterId: () => ours.clusterId,
    isRemoved: (id) => removed.has(id),
    now: () => now,
  });
  const id = await authz.require(callWith(ours.credentials.certPem), ['swarm-manager']);
  t.deepEqual(id, { nodeId: ours.nodeId, role: 'swarm-manager', clusterId: ours.clusterId });
  await t.throwsAsync(authz.require(callWith(theirs.credentials.certPem), ['swarm-manager']), {
    message: 'certificate signed by unknown authority',
  });
  await t.throwsAsync(authz.require(callWith(), ['swarm-manager']), {
    message: 'a client certificate is required',
  });
  t.is(await authz.peer(callWith()), undefined);
  await t.throwsAsync(authz.require(callWith(ours.credentials.certPem), ['swarm-worker']), {
    message: 'permission denied: swarm-manager may not call this method',
  });
  // Same CA, another cluster ID in O.
  const { csrPem } = await createKeyAndCSR();
  const foreignO = await signNodeCertificate(ours.authority.rootCA, csrPem, {
    nodeId: 'n1',
    role: 'swarm-worker',
    clusterId: 'other',
  });
  await t.throwsAsync(authz.require(callWith(foreignO), ['swarm-worker']), {
    message: 'certificate belongs to another cluster (other)',
  });
  removed.add(ours.nodeId);
  await t.throwsAsync(authz.require(callWith(ours.credentials.certPem), ['swarm-manager']), {
    message: `node ${ours.nodeId} was removed from the swarm`,
  });
  removed.clear();
  now += 91 * 86400e3;
  await t.throwsAsync(authz.require(callWith(ours.credentials.certPem), ['swarm-manager']), {
    message: /^certificate expired at /,
  });
});

test('join tokens embed the CA digest and round-trip', (t) => {
  const digest = Buffer.alloc(32, 0xab);
  const token = newJoinToken(digest, (n) => Buffer.alloc(n, 1));
  t.regex(token, /^SWMTKN-1-[0-9a-z]{50}-[0-9a-z]{25}$/);
  t.deepEqual(parseJoinToken(token).caDigest, digest);
  t.throws(() => parseJoinToken(`SWMTKN-1-${'z'.repeat(50)}-${'a'.repeat(25)}`), {
    message: 'invalid join token: CA digest is out of range',
  });
  t.throws(() => parseJoinToken(`SWMTKN-1-${'a'.repeat(50)}-${'a'.repeat(24)}`), {
    message: 'invalid join token: secret has 24 characters, expected 25',
  });
  t.throws(() => parseJoinToken(`SWMTKN-1-${'a'.repeat(50)}-${'a'.repeat(24)}!`), {
    message: 'invalid join token: secret has characters outside [0-9a-z]',
  });
  t.throws(() => parseJoinToken(''), { message: 'invalid join token: empty' });
});

test('renewal happens between 50 % and 80 % of the validity', (t) => {
  t.is(
    renewalTime(0, 1000, () => 0),
    500,
  );
  t.is(
    renewalTime(0, 1000, () => 0.999999999),
    800 - 0.0000003,
  );
  for (let i = 0; i < 1000; i++) {
    const r = renewalTime(1000, 2000);
    t.true(r >= 1500 && r <= 1800);
  }
});

test('a joining client pins the CA of its token', async (t) => {
  const c = await createCluster();
  t.is(
    parseJoinToken(c.tokens.worker).caDigest.toString('hex'),
    rootDigest(c.authority.rootCA).toString('hex'),
  );
  // Nothing listens on this port: a clear, bounded failure.
  const start = Date.now();
  await t.throwsAsync(joinRequest('127.0.0.1:9', c.tokens.worker, { timeoutMs: 2000 }), {
    name: 'Unavailable',
  });
  t.true(Date.now() - start < 5000);
});
