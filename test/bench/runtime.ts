// Start-to-running latency of one container through our container manager (ContainerManager.startContainer:
// conmon create, start through runc's exec fifo, state recorded, exit watch armed) against `runc run -d` of the
// very same bundle. Every sample starts from a created container (overlay root mounted, config.json written, by
// the manager, untimed) and ends when the container runs; teardown is not timed. Then pull throughput against
// `skopeo copy` (test/bench/runtime-pull.ts).
// Run: flock /tmp/tss-heavy.lock npm run bench:runtime   (BENCH_STARTS, BENCH_CONCURRENCY override the sizes)
import { execFile, execFileSync, spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createLogger } from '../../api/index.js';
import {
  ContainerManager,
  ImageStore,
  removeIdleCgroupParent,
  runcDelete,
  runcState,
  type RuncEnv,
} from '../../runtime/index.js';
import { importBusybox } from '../support/busybox-image.js';
import { tempDir } from '../support/temp.js';
import { unmountUnder } from '../../deploy/lab/index.js';

const execFileP = promisify(execFile);
const STARTS = Number(process.env.BENCH_STARTS ?? 100);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 8);

const dir = tempDir();
const raw: RuncEnv = { root: join(dir.path, 'runc-raw') };
const runcPath = execFileSync('sh', ['-c', 'command -v runc'], { encoding: 'utf8' }).trim();
const images = new ImageStore(join(dir.path, 'image'));
await images.start();
await importBusybox(images);
const manager = new ContainerManager({ dataRoot: dir.path, images, log: createLogger({ bench: 'runtime' }) });
await manager.start();

/** A created (not started) container: its bundle is what both sides start. */
async function created(): Promise<string> {
  const { Id } = await manager.create({
    Image: 'busybox:local',
    Cmd: ['sleep', '60'],
    HostConfig: { NetworkMode: 'none' },
  });
  return Id;
}

async function startOurs(id: string): Promise<void> {
  await manager.startContainer(id);
}

async function startRaw(id: string): Promise<void> {
  mkdirSync(raw.root, { recursive: true, mode: 0o700 });
  // stdio on /dev/null: the detached container inherits it, and a pipe would tie its life to ours.
  const child = spawn(
    runcPath,
    ['--root', raw.root, 'run', '-d', '--bundle', manager.dirOf(id), `raw-${id}`],
    {
      cwd: manager.dirOf(id),
      stdio: 'ignore',
    },
  );
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', resolve);
  });
  if (code !== 0) throw new Error(`runc run -d ${id} exited ${code}`);
}

/**
 * Starts `ids` with `concurrency` in flight, back to back; returns each start's latency (ms). Every container
 * is then checked running, after the timed part: a `runc state` between starts would compete with them.
 */
async function startAll(which: 'ours' | 'raw', ids: string[], concurrency: number): Promise<number[]> {
  const latencies: number[] = [];
  let next = 0;
  const worker = async () => {
    while (next < ids.length) {
      const id = ids[next++]!;
      const t = performance.now();
      await (which === 'ours' ? startOurs(id) : startRaw(id));
      latencies.push(performance.now() - t);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return latencies;
}

async function checkRunning(which: 'ours' | 'raw', ids: string[]): Promise<void> {
  for (const id of ids) {
    const s = which === 'ours' ? await runcState(manager.env, id) : await runcState(raw, `raw-${id}`);
    if (s?.status !== 'running') throw new Error(`${id} is ${s?.status ?? 'missing'}, not running`);
  }
}

async function teardown(which: 'ours' | 'raw', ids: string[]): Promise<void> {
  for (const id of ids) {
    if (which === 'raw') await runcDelete(raw, `raw-${id}`, true).catch(() => undefined);
    await manager.remove(id, { force: true });
  }
}

/**
 * `count` starts per side with `concurrency` in flight, in rounds that alternate sides (raw first in even
 * rounds, ours first in odd ones), so the load other jobs put on the shared box hits both sides alike.
 */
async function measure(count: number, concurrency: number, round: number) {
  const out = {
    ours: { latencies: [] as number[], wallMs: 0 },
    raw: { latencies: [] as number[], wallMs: 0 },
  };
  for (let done = 0, r = 0; done < count; done += round, r++) {
    const n = Math.min(round, count - done);
    const order: ('ours' | 'raw')[] = r % 2 === 0 ? ['raw', 'ours'] : ['ours', 'raw'];
    for (const which of order) {
      const ids: string[] = [];
      for (let i = 0; i < n; i++) ids.push(await created());
      const t0 = performance.now();
      out[which].latencies.push(...(await startAll(which, ids, concurrency)));
      out[which].wallMs += performance.now() - t0;
      await checkRunning(which, ids);
      await teardown(which, ids);
    }
  }
  return out;
}

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

async function main(): Promise<void> {
  const rows: string[][] = [];
  for (const concurrency of [1, CONCURRENCY]) {
    await measure(3, 1, 1); // warm-up: neither side pays first-run page-cache costs alone
    const { raw: r, ours: o } = await measure(STARTS, concurrency, concurrency === 1 ? 1 : 4 * concurrency);
    const ratio = (f: (x: number[]) => number) => (f(o.latencies) / f(r.latencies)).toFixed(2);
    rows.push([
      String(concurrency),
      pct(r.latencies, 50).toFixed(1),
      pct(r.latencies, 95).toFixed(1),
      pct(o.latencies, 50).toFixed(1),
      pct(o.latencies, 95).toFixed(1),
      ratio((x) => pct(x, 50)),
      ratio((x) => pct(x, 95)),
      (r.wallMs / 1000).toFixed(2),
      (o.wallMs / 1000).toFixed(2),
    ]);
  }
  console.log(`${STARTS} starts per row (busybox sleep, overlay root, network none, cgroup /tss/<id>)`);
  console.log(
    'conc | runc run -d p50 ms | p95 ms | manager start p50 ms | p95 ms | p50 x | p95 x | runc wall s | manager wall s',
  );
  for (const r of rows) console.log(r.join(' | '));
}

try {
  await main();
} finally {
  for (const r of manager.list()) await manager.remove(r.Id, { force: true }).catch(() => undefined);
  await manager.stop();
  for (const env of [manager.env, raw]) {
    const list = await execFileP(runcPath, ['--root', env.root, 'list', '-q']).catch(() => ({ stdout: '' }));
    for (const id of list.stdout.split('\n').filter(Boolean))
      await runcDelete(env, id, true).catch(() => undefined);
  }
  await unmountUnder(dir.path);
  removeIdleCgroupParent();
  dir.remove();
}

if (process.env.BENCH_SKIP_PULL !== '1') {
  console.log('\npull throughput (test/bench/runtime-pull.ts):');
  await import('./runtime-pull.js');
}
