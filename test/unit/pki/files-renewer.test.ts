import test from 'ava';
import { readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  CertificateRenewer,
  createCluster,
  createKeyAndCSR,
  retryBackoff,
  loadNodeCredentials,
  saveNodeCredentials,
} from '../../../pki/index.js';
import type { Logger } from '../../../api/index.js';
import { tempDir } from '../../support/temp.js';

const silent: Logger = { debug() {}, info() {}, warn() {}, error() {}, child: () => silent };

test('credentials are written 0600 without leftovers, load back, and a key that does not match is refused', async (t) => {
  const tmp = tempDir();
  const dir = join(tmp.path, 'swarm', 'certificates');
  try {
    t.is(loadNodeCredentials(dir), undefined);
    const { credentials } = await createCluster();
    saveNodeCredentials(dir, credentials);
    t.deepEqual(readdirSync(dir).sort(), [
      'swarm-node.crt',
      'swarm-node.key',
      'swarm-root-ca.crt',
      'swarm-root-ca.key',
    ]);
    for (const f of readdirSync(dir)) t.is(statSync(join(dir, f)).mode & 0o777, 0o600, f);
    t.deepEqual(loadNodeCredentials(dir), credentials);

    // A crash between writing a new key and its certificate leaves a pair that must not load silently.
    writeFileSync(join(dir, 'swarm-node.key'), (await createKeyAndCSR()).keyPem);
    t.throws(() => loadNodeCredentials(dir), { message: /does not match its key/ });
    writeFileSync(join(dir, 'swarm-node.key'), 'garbage');
    t.throws(() => loadNodeCredentials(dir), { message: /unreadable/ });
  } finally {
    tmp.remove();
  }
});

test('the renewer retries failures with exponential backoff, then schedules from the new certificate', async (t) => {
  const attempts: number[] = [];
  let validity = { notBefore: Date.now() - 10_000, notAfter: Date.now() - 1 }; // due now
  const renewer = new CertificateRenewer({
    validity: () => validity,
    renew: async () => {
      attempts.push(Date.now());
      if (attempts.length < 4) throw new Error(`manager unreachable (${attempts.length})`);
      validity = { notBefore: Date.now(), notAfter: Date.now() + 3_600_000 };
    },
    random: () => 0,
    minBackoffMs: 40,
    maxBackoffMs: 100,
    log: silent,
  });
  renewer.start();
  try {
    while (attempts.length < 4) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 300));
    // 4 attempts: the first at once, then after 40, 80 and 100 (capped) ms; none after the success.
    // Timers never fire early, so only lower bounds are checked: a loaded CI machine may fire them late.
    t.is(attempts.length, 4);
    const gaps = attempts.slice(1).map((a, i) => a - attempts[i]!);
    [40, 80, 100].forEach((min, i) => t.true(gaps[i]! >= min - 2, `gaps ${gaps.join(',')}`));
  } finally {
    renewer.stop();
  }
});

test('retry backoff doubles from the minimum and stops at the maximum', (t) => {
  t.deepEqual(
    [1, 2, 3, 4, 5].map((n) => retryBackoff(n, 500, 60_000)),
    [500, 1000, 2000, 4000, 8000],
  );
  t.is(retryBackoff(20, 500, 60_000), 60_000);
  t.is(retryBackoff(3, 40, 100), 100);
});

test('stop() cancels a pending retry', async (t) => {
  let attempts = 0;
  const renewer = new CertificateRenewer({
    validity: () => ({ notBefore: 0, notAfter: 1 }),
    renew: async () => {
      attempts++;
      throw new Error('manager unreachable');
    },
    minBackoffMs: 50,
    log: silent,
  });
  renewer.start();
  while (attempts < 1) await new Promise((r) => setTimeout(r, 5));
  renewer.stop();
  await new Promise((r) => setTimeout(r, 200));
  t.is(attempts, 1);
});
