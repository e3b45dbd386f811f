// npm run bench:pki — certificates issued per second and new mTLS connections per second on 127.0.0.1,
// against an openssl s_server / s_time handshake loop with the same ECDSA P-256 certificates as the anchor.
import { spawn, execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createServer } from 'node:net';
import {
  CertificateStore,
  ClusterChannel,
  callUnary,
  createKeyAndCSR,
  joinRequest,
  signNodeCertificate,
} from '../../pki/index.js';
import { MANAGER_ONLY, startPkiServer } from '../integration/pki/pki-server.js';
import { tempDir } from '../support/temp.js';

const SECONDS = 5;

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

const srv = await startPkiServer();
const dir = tempDir();
try {
  // 1. Issuing: CSR verification + signing by one CA, CSRs prepared beforehand (keys are made by the nodes).
  const csrs = await Promise.all(Array.from({ length: 200 }, () => createKeyAndCSR()));
  let issued = 0;
  const t0 = Date.now();
  while (Date.now() - t0 < SECONDS * 1000) {
    await signNodeCertificate(srv.cluster.authority.rootCA, csrs[issued % csrs.length]!.csrPem, {
      nodeId: `n${issued}`,
      role: 'swarm-worker',
      clusterId: srv.cluster.clusterId,
    });
    issued++;
  }
  const issuedPerSec = issued / ((Date.now() - t0) / 1000);

  // 2. New mTLS connections: a fresh channel, handshake and one authorized call each, sequentially.
  const node = await joinRequest(srv.address, srv.cluster.tokens.manager);
  let conns = 0;
  const t1 = Date.now();
  while (Date.now() - t1 < SECONDS * 1000) {
    const ch = new ClusterChannel(srv.address, new CertificateStore(node.credentials), srv.cluster.clusterId);
    await callUnary(ch.client, MANAGER_ONLY, {});
    ch.close();
    conns++;
  }
  const connsPerSec = conns / ((Date.now() - t1) / 1000);

  // 3. Anchor: openssl s_server with the same kind of certificates, s_time making new full handshakes.
  writeFileSync(join(dir.path, 'ca.crt'), node.credentials.rootCaPem);
  writeFileSync(join(dir.path, 'node.crt'), node.credentials.certPem);
  writeFileSync(join(dir.path, 'node.key'), node.credentials.keyPem);
  const port = await freePort();
  const server = spawn(
    'openssl',
    [
      's_server',
      '-accept',
      `127.0.0.1:${port}`,
      '-cert',
      join(dir.path, 'node.crt'),
      '-key',
      join(dir.path, 'node.key'),
      '-CAfile',
      join(dir.path, 'ca.crt'),
      '-Verify',
      '1',
      '-www',
      '-quiet',
    ],
    { stdio: 'ignore' },
  );
  await new Promise((r) => setTimeout(r, 500));
  let anchor = 0;
  try {
    const out = execFileSync(
      'openssl',
      [
        's_time',
        '-connect',
        `127.0.0.1:${port}`,
        '-new',
        '-time',
        String(SECONDS),
        '-cert',
        join(dir.path, 'node.crt'),
        '-key',
        join(dir.path, 'node.key'),
        '-CAfile',
        join(dir.path, 'ca.crt'),
      ],
      { encoding: 'utf8', timeout: (SECONDS + 10) * 1000 },
    );
    anchor = Number(
      /([\d.]+) connections\/user sec/.exec(out)?.[1] ?? /(\d+) connections in [\d.]+s/.exec(out)?.[1] ?? 0,
    );
    const m = /(\d+) connections in ([\d.]+) real seconds/.exec(out);
    if (m) anchor = Number(m[1]) / Number(m[2]);
  } finally {
    server.kill('SIGKILL');
  }
  console.log(`certificates issued per second (one CA):     ${issuedPerSec.toFixed(0)}`);
  console.log(`new mTLS connections + call per second:      ${connsPerSec.toFixed(0)}`);
  console.log(`openssl s_server/s_time handshakes per second: ${anchor.toFixed(0)}`);
  console.log(`ratio tsswarm/openssl (connections):         ${(connsPerSec / anchor).toFixed(2)}`);
} finally {
  dir.remove();
  await srv.stop();
}
