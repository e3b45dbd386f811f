import test from 'ava';
import { join } from 'node:path';
import {
  CertificateStore,
  ClusterChannel,
  callUnary,
  joinRequest,
  loadNodeCredentials,
  renewCertificate,
  renewer,
  validityOf,
} from '../../../pki/index.js';
import { tempDir } from '../../support/temp.js';
import { MANAGER_ONLY, startPkiServer } from './pki-server.js';

test('a running client with a 20-second certificate renews before expiry and keeps working past the old expiry', async (t) => {
  t.timeout(60_000);
  const srv = await startPkiServer({ validityMs: 20_000 });
  const tmp = tempDir();
  const certDir = join(tmp.path, 'swarm', 'certificates');
  const joined = (await joinRequest(srv.address, srv.cluster.tokens.manager)).credentials;
  const firstExpiry = validityOf(joined.certPem).notAfter;
  const store = new CertificateStore(joined);
  const channel = new ClusterChannel(srv.address, store, srv.cluster.clusterId);
  const r = renewer({ address: () => srv.address, store, credentials: joined, certDir });
  r.start();
  let calls = 0;
  try {
    // Call twice a second until well past the first certificate's expiry; every call must succeed.
    while (Date.now() < firstExpiry + 4_000) {
      await callUnary(channel.client, MANAGER_ONLY, {}, 5_000);
      calls++;
      await new Promise((res) => setTimeout(res, 500));
    }
    const renewed = validityOf(r.credentials.certPem);
    t.true(renewed.notAfter > firstExpiry, 'renewed before the old certificate expired');
    t.true(calls > 30);
    // The renewed certificate and its new key are what is on disk.
    t.deepEqual(loadNodeCredentials(certDir), r.credentials);
    t.not(r.credentials.keyPem, joined.keyPem);
  } finally {
    r.stop();
    channel.close();
    await srv.stop();
    tmp.remove();
  }
});

test('a node that was offline past its certificate expiry is refused', async (t) => {
  t.timeout(30_000);
  const srv = await startPkiServer({ validityMs: 3_000 });
  try {
    const j = await joinRequest(srv.address, srv.cluster.tokens.worker);
    await new Promise((r) => setTimeout(r, validityOf(j.credentials.certPem).notAfter - Date.now() + 500));
    // OpenSSL may not even offer an expired certificate; either way the renewal is refused.
    await t.throwsAsync(renewCertificate(srv.address, j.credentials), {
      message: /^certificate expired at |^a join token or a valid node certificate is required$/,
    });
    const store = new CertificateStore(j.credentials);
    const channel = new ClusterChannel(srv.address, store, srv.cluster.clusterId);
    try {
      await t.throwsAsync(callUnary(channel.client, MANAGER_ONLY, {}), {
        message: /^certificate expired at |^a client certificate is required$/,
      });
    } finally {
      channel.close();
    }
    // With a token it can join again, as a new node.
    const again = await joinRequest(srv.address, srv.cluster.tokens.worker);
    t.not(again.nodeId, j.nodeId);
  } finally {
    await srv.stop();
  }
});
