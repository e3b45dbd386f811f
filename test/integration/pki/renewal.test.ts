import test from 'ava';
import {
  CertificateRenewer,
  CertificateStore,
  ClusterChannel,
  callUnary,
  joinRequest,
  renewCertificate,
  validityOf,
  type NodeCredentials,
} from '../../../pki/index.js';
import { MANAGER_ONLY, startPkiServer } from '../../support/pki-server.js';

test('a running client with a 20-second certificate renews before expiry and keeps working past the old expiry', async (t) => {
  t.timeout(60_000);
  const srv = await startPkiServer({ validityMs: 20_000 });
  let creds: NodeCredentials = (await joinRequest(srv.address, srv.cluster.tokens.manager)).credentials;
  const firstExpiry = validityOf(creds.certPem).notAfter;
  const store = new CertificateStore(creds);
  const channel = new ClusterChannel(srv.address, store, srv.cluster.clusterId);
  let renewals = 0;
  const renewer = new CertificateRenewer({
    validity: () => validityOf(creds.certPem),
    renew: async () => {
      creds = await renewCertificate(srv.address, creds);
      store.update(creds);
      renewals++;
    },
  });
  renewer.start();
  let calls = 0;
  try {
    // Call twice a second until well past the first certificate's expiry; every call must succeed.
    while (Date.now() < firstExpiry + 4_000) {
      await callUnary(channel.client, MANAGER_ONLY, {}, 5_000);
      calls++;
      await new Promise((r) => setTimeout(r, 500));
    }
    t.true(renewals >= 1, `renewed ${renewals} times`);
    t.true(validityOf(creds.certPem).notAfter > firstExpiry);
    t.true(calls > 30);
  } finally {
    renewer.stop();
    channel.close();
    await srv.stop();
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
