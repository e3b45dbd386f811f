// npm run bench:raft — our Raft (3 processes, WAL with fsync) vs etcd 3.4 (3 members) on 127.0.0.1, same disk,
// 1/16/256 concurrent proposers of 256-byte values, 10 s each. Prints writes/s, p50/p99 latency and ratios.
import { spawn, type ChildProcess } from 'node:child_process';
import { freePort } from '../support/net.js';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { KvProcessCluster, httpJson } from '../support/kv-cluster-processes.js';
import { tempDir } from '../support/temp.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONCURRENCY = [1, 16, 256];
const VALUE = 'x'.repeat(256);

interface Result {
  writes: number;
  seconds: number;
  p50: number;
  p99: number;
}

async function load(concurrency: number, put: (key: string) => Promise<boolean>): Promise<Result> {
  const lat: number[] = [];
  let writes = 0;
  const end = performance.now() + SECONDS * 1000;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async (_, c) => {
      let i = 0;
      while (performance.now() < end) {
        const t0 = performance.now();
        if (await put(`k${c}-${i++ % 1000}`)) {
          lat.push(performance.now() - t0);
          writes++;
        }
      }
    }),
  );
  lat.sort((a, b) => a - b);
  const pct = (p: number) => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))] ?? NaN;
  return { writes, seconds: (performance.now() - start) / 1000, p50: pct(0.5), p99: pct(0.99) };
}

// --- etcd: 3 members, driven over gRPC with a hand-encoded PutRequest (key = field 1, value = field 2) ---
function varint(n: number): Buffer {
  const out: number[] = [];
  while (n > 127) {
    out.push((n & 127) | 128);
    n >>>= 7;
  }
  out.push(n);
  return Buffer.from(out);
}
function putRequest(key: string, value: string): Buffer {
  const k = Buffer.from(key);
  const v = Buffer.from(value);
  return Buffer.concat([Buffer.from([0x0a]), varint(k.length), k, Buffer.from([0x12]), varint(v.length), v]);
}

async function startEtcd(dir: string): Promise<{ endpoints: string[]; procs: ChildProcess[] }> {
  const members = await Promise.all(
    [1, 2, 3].map(async (i) => ({ name: `e${i}`, client: await freePort(), peer: await freePort() })),
  );
  const initial = members.map((m) => `${m.name}=http://127.0.0.1:${m.peer}`).join(',');
  const procs = members.map((m) =>
    spawn(
      'etcd',
      [
        '--name',
        m.name,
        '--data-dir',
        join(dir, m.name),
        '--listen-client-urls',
        `http://127.0.0.1:${m.client}`,
        '--advertise-client-urls',
        `http://127.0.0.1:${m.client}`,
        '--listen-peer-urls',
        `http://127.0.0.1:${m.peer}`,
        '--initial-advertise-peer-urls',
        `http://127.0.0.1:${m.peer}`,
        '--initial-cluster',
        initial,
        '--initial-cluster-state',
        'new',
        '--log-level',
        'error',
      ],
      { stdio: 'ignore' },
    ),
  );
  return { endpoints: members.map((m) => `127.0.0.1:${m.client}`), procs };
}

async function etcdPutter(
  endpoint: string,
): Promise<{ put: (key: string) => Promise<boolean>; close: () => void }> {
  const clients = Array.from(
    { length: 8 },
    () =>
      new grpc.Client(endpoint, grpc.credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 }),
  );
  let rr = 0;
  const put = (key: string) =>
    new Promise<boolean>((resolve) => {
      const c = clients[rr++ % clients.length]!;
      c.makeUnaryRequest(
        '/etcdserverpb.KV/Put',
        (b: Buffer) => b,
        (b: Buffer) => b,
        putRequest(key, VALUE),
        (err) => resolve(!err),
      );
    });
  // Wait until the cluster accepts writes.
  const deadline = Date.now() + 30_000;
  while (!(await put('warmup'))) {
    if (Date.now() > deadline) throw new Error('etcd did not become ready');
    await new Promise((r) => setTimeout(r, 200));
  }
  return { put, close: () => clients.forEach((c) => c.close()) };
}

const rows: { system: string; c: number; r: Result }[] = [];

// Ours.
const ours = await KvProcessCluster.start(3, 50_000);
try {
  const leader = await ours.leader();
  for (const c of CONCURRENCY) {
    const r = await load(
      c,
      async (key) =>
        (await httpJson(leader.httpPort, `/put?key=${key}&value=${VALUE}`, 10_000).catch(() => undefined))
          ?.status === 200,
    );
    rows.push({ system: 'tsswarm', c, r });
  }
} finally {
  await ours.stop();
}

// etcd.
const dir = tempDir();
const etcd = await startEtcd(dir.path);
try {
  for (const c of CONCURRENCY) {
    const putter = await etcdPutter(etcd.endpoints[0]!);
    const r = await load(c, putter.put);
    putter.close();
    rows.push({ system: 'etcd 3.4', c, r });
  }
} finally {
  for (const p of etcd.procs) p.kill('SIGKILL');
  dir.remove();
}

console.log('system     clients   writes/s    p50 ms    p99 ms');
for (const { system, c, r } of rows) {
  console.log(
    `${system.padEnd(10)} ${String(c).padStart(7)} ${(r.writes / r.seconds).toFixed(0).padStart(10)} ${r.p50.toFixed(2).padStart(9)} ${r.p99.toFixed(2).padStart(9)}`,
  );
}
for (const c of CONCURRENCY) {
  const a = rows.find((x) => x.system === 'tsswarm' && x.c === c)!.r;
  const b = rows.find((x) => x.system === 'etcd 3.4' && x.c === c)!.r;
  console.log(
    `ratio at ${c} clients: throughput ${(a.writes / a.seconds / (b.writes / b.seconds)).toFixed(2)}x, p99 ${(a.p99 / b.p99).toFixed(2)}x of etcd`,
  );
}
