// Start-to-running latency: runc under conmon (our runtime's start path: conmon create, then runc start)
// against plain `runc run -d` of an identical bundle. Each sample starts from a prepared bundle (overlay root
// mounted, config.json written) and ends when runc reports the container running; teardown is not timed.
// Run: flock /tmp/tss-heavy.lock npm run bench:runtime   (BENCH_STARTS, BENCH_CONCURRENCY override the sizes)
import { execFile, execFileSync, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import {
  buildOciSpec,
  createUnderConmon,
  mergeEnv,
  removeIdleCgroupParent,
  resolveUser,
  runcDelete,
  runcStart,
  runcState,
  type RuncEnv,
} from '../../runtime/index.js';
import { buildBusyboxRootfs, mountOverlayRoot } from '../support/busybox-rootfs.js';
import { tempDir } from '../support/temp.js';
import { unmountUnder } from '../../deploy/lab/index.js';

const execFileP = promisify(execFile);
const STARTS = Number(process.env.BENCH_STARTS ?? 100);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 8);

const dir = tempDir();
const image = buildBusyboxRootfs(join(dir.path, 'image'));
const ours: RuncEnv = { root: join(dir.path, 'runc-ours') };
const raw: RuncEnv = { root: join(dir.path, 'runc-raw') };
const runcPath = execFileSync('sh', ['-c', 'command -v runc'], { encoding: 'utf8' }).trim();
const user = resolveUser(
  undefined,
  readFileSync(join(image, 'etc/passwd'), 'utf8'),
  readFileSync(join(image, 'etc/group'), 'utf8'),
);

/** A bundle ready to run: overlay root over the busybox image, config.json for `sleep 60` under /tss/<id>. */
function prepareBundle(): { id: string; bundle: string } {
  const id = `tss-${randomBytes(4).toString('hex')}`;
  const bundle = join(dir.path, 'containers', id);
  mountOverlayRoot(image, bundle);
  const spec = buildOciSpec({
    rootfs: join(bundle, 'rootfs'),
    argv: ['sleep', '60'],
    env: mergeEnv([], [], id.slice(0, 12)),
    user,
    hostname: id.slice(0, 12),
    network: 'none',
    cgroupsPath: `/tss/${id}`,
  });
  writeFileSync(join(bundle, 'config.json'), JSON.stringify(spec));
  return { id, bundle };
}

async function startOurs(id: string, bundle: string): Promise<void> {
  await createUnderConmon(ours, {
    id,
    bundle,
    logPath: join(bundle, 'ctr.log'),
    exitDir: join(bundle, 'exits'),
    socketDir: join(bundle, 's'),
  });
  await runcStart(ours, id);
}

async function startRaw(id: string, bundle: string): Promise<void> {
  mkdirSync(raw.root, { recursive: true, mode: 0o700 });
  // stdio on /dev/null: the detached container inherits it, and a pipe would tie its life to ours.
  const child = spawn(runcPath, ['--root', raw.root, 'run', '-d', '--bundle', bundle, id], {
    cwd: bundle,
    stdio: 'ignore',
  });
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', resolve);
  });
  if (code !== 0) throw new Error(`runc run -d ${id} exited ${code}`);
}

async function teardown(env: RuncEnv, id: string, bundle: string): Promise<void> {
  await runcDelete(env, id, true).catch(() => undefined);
  execFileSync('umount', [join(bundle, 'rootfs')]);
}

/** Latencies (ms) of `count` starts with `concurrency` in flight; every container is checked running. */
async function measure(
  env: RuncEnv,
  start: (id: string, bundle: string) => Promise<void>,
  count: number,
  concurrency: number,
): Promise<{ latencies: number[]; wallMs: number }> {
  const bundles = Array.from({ length: count }, prepareBundle);
  const latencies: number[] = [];
  let next = 0;
  const t0 = performance.now();
  const worker = async () => {
    while (next < bundles.length) {
      const { id, bundle } = bundles[next++]!;
      const t = performance.now();
      await start(id, bundle);
      latencies.push(performance.now() - t);
      const s = await runcState(env, id);
      if (s?.status !== 'running') throw new Error(`${id} is ${s?.status ?? 'missing'}, not running`);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const wallMs = performance.now() - t0;
  for (const { id, bundle } of bundles) await teardown(env, id, bundle);
  return { latencies, wallMs };
}

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

async function main(): Promise<void> {
  const rows: string[][] = [];
  for (const concurrency of [1, CONCURRENCY]) {
    // Interleave a warm-up of each so neither side pays first-run page-cache costs alone.
    await measure(raw, startRaw, 3, 1);
    await measure(ours, startOurs, 3, 1);
    const r = await measure(raw, startRaw, STARTS, concurrency);
    const o = await measure(ours, startOurs, STARTS, concurrency);
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
    'conc | runc p50 ms | runc p95 ms | conmon+runc p50 ms | conmon+runc p95 ms | p50 x | p95 x | runc wall s | ours wall s',
  );
  for (const r of rows) console.log(r.join(' | '));
}

try {
  await main();
} finally {
  for (const env of [ours, raw]) {
    const list = await execFileP(runcPath, ['--root', env.root, 'list', '-q']).catch(() => ({ stdout: '' }));
    for (const id of list.stdout.split('\n').filter(Boolean))
      await runcDelete(env, id, true).catch(() => undefined);
  }
  await unmountUnder(dir.path);
  removeIdleCgroupParent();
  dir.remove();
}
