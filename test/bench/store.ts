// npm run bench:store — the replicated store through the full path: Docker API on the leader's socket → store
// transaction → Raft (WAL with fsync) → applied on 3 managers, each a daemon in its own lab network namespace.
// 1/16/64 concurrent clients create small configs for BENCH_SECONDS each; then leader failover over
// BENCH_TRIALS trials: SIGKILL the leader, time until a write succeeds on a survivor. Prints writes/s, latency
// percentiles and failover p50/max.
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { Lab } from '../../deploy/lab/index.js';
import { cliCommand } from '../support/daemon-process.js';
import { dockerOn } from '../support/lab-docker.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const TRIALS = Number(process.env.BENCH_TRIALS ?? 10);
const CONCURRENCY = (process.env.BENCH_CLIENTS ?? '1,16,64').split(',').map(Number);
const MANAGERS = ['m1', 'm2', 'm3'];

const agents = new Map<string, Agent>();

/** One JSON request on a lab host's API socket; resolves with the status code (0 on a transport error). */
function call(lab: Lab, host: string, method: string, path: string, body?: unknown): Promise<number> {
  const socketPath = lab.host(host).socket;
  let agent = agents.get(socketPath);
  if (!agent) agents.set(socketPath, (agent = new Agent({ keepAlive: true, maxSockets: 128 })));
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve) => {
    const req = request(
      {
        socketPath,
        agent,
        method,
        path,
        timeout: 15_000,
        headers: payload ? { 'content-type': 'application/json' } : {},
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(0));
    req.end(payload);
  });
}

function leaderHost(lab: Lab, alive: string[]): string | undefined {
  for (const h of alive) {
    const out = dockerOn(lab, h, ['node', 'ls', '--format', '{{.Hostname}} {{.ManagerStatus}}']).stdout;
    const m = /^(\S+) Leader$/m.exec(out);
    if (m && alive.includes(m[1]!)) return m[1];
  }
  return undefined;
}

async function until<T>(
  fn: () => Promise<T | undefined> | T | undefined,
  ms: number,
  what: string,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const DATA = Buffer.from('small config payload').toString('base64');
let seq = 0;
const write = (lab: Lab, host: string) =>
  call(lab, host, 'POST', '/v1.47/configs/create', { Name: `b-${process.pid}-${seq++}`, Data: DATA });

/** CPU seconds (user + system) a process has used, from /proc. */
function cpuSeconds(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

async function throughput(lab: Lab, leader: string, clients: number) {
  const pids = MANAGERS.map((h) => lab.host(h).pid!);
  const cpu0 = pids.map(cpuSeconds);
  const self0 = process.cpuUsage();
  const lat: number[] = [];
  let failed = 0;
  const start = performance.now();
  const end = start + SECONDS * 1000;
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (performance.now() < end) {
        const t0 = performance.now();
        if ((await write(lab, leader)) === 201) lat.push(performance.now() - t0);
        else failed++;
      }
    }),
  );
  const seconds = (performance.now() - start) / 1000;
  const selfUsage = process.cpuUsage(self0);
  // CPU µs per acknowledged write: the leader, the two followers together, and this load generator.
  const perWrite = (s: number) => (s * 1e6) / Math.max(1, lat.length);
  const used = pids.map((p, i) => cpuSeconds(p) - cpu0[i]!);
  const leaderIdx = MANAGERS.indexOf(leader);
  const cpu = {
    leader: perWrite(used[leaderIdx]!),
    followers: perWrite(used.reduce((a, b) => a + b, 0) - used[leaderIdx]!),
    client: perWrite((selfUsage.user + selfUsage.system) / 1e6),
  };
  lat.sort((a, b) => a - b);
  const pct = (p: number) => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))] ?? NaN;
  return { perSecond: lat.length / seconds, p50: pct(0.5), p99: pct(0.99), failed, cpu };
}

async function main(): Promise<void> {
  // BENCH_CPU_PROF=dir writes each daemon's V8 CPU profile there (on a clean stop) for finding hot spots.
  const [node, ...rest] = cliCommand();
  const prof = process.env.BENCH_CPU_PROF;
  const lab = await Lab.create({
    tsswarm: prof ? [node!, '--cpu-prof', `--cpu-prof-dir=${prof}`, ...rest] : [node!, ...rest],
  });
  try {
    for (const h of MANAGERS) await lab.addHost(h);
    await Promise.all(MANAGERS.map((h) => lab.startDaemon(h)));
    const m1 = lab.host('m1').addr;
    if (dockerOn(lab, 'm1', ['swarm', 'init', '--advertise-addr', m1]).status !== 0) throw new Error('init');
    const token = dockerOn(lab, 'm1', ['swarm', 'join-token', '-q', 'manager']).stdout.trim();
    for (const h of ['m2', 'm3']) {
      const j = dockerOn(lab, h, ['swarm', 'join', '--token', token, `${m1}:2377`]);
      if (j.status !== 0) throw new Error(`${h}: ${j.stderr}`);
    }
    const reachable = (on: string) =>
      dockerOn(lab, on, ['node', 'ls', '--format', '{{.ManagerStatus}}'])
        .stdout.split('\n')
        .filter((l) => /Leader|Reachable/.test(l)).length === 3;
    await until(() => reachable('m1'), 30_000, 'three reachable managers');

    console.log(`store writes through the API on the leader (3 managers, ${SECONDS} s each, config create)`);
    console.log('clients  writes/s   p50 ms   p99 ms  failed   CPU µs/write: leader followers client');
    const leader = leaderHost(lab, MANAGERS)!;
    for (const c of CONCURRENCY) {
      const r = await throughput(lab, leader, c);
      console.log(
        `${String(c).padStart(7)} ${r.perSecond.toFixed(0).padStart(9)} ${r.p50.toFixed(1).padStart(8)} ${r.p99
          .toFixed(1)
          .padStart(
            8,
          )} ${String(r.failed).padStart(7)} ${r.cpu.leader.toFixed(0).padStart(20)} ${r.cpu.followers
          .toFixed(0)
          .padStart(9)} ${r.cpu.client.toFixed(0).padStart(6)}`,
      );
    }

    const times: number[] = [];
    for (let i = 0; i < TRIALS; i++) {
      const old = await until(() => leaderHost(lab, MANAGERS), 30_000, 'a leader');
      const survivors = MANAGERS.filter((h) => h !== old);
      await lab.stopDaemon(old, 'SIGKILL');
      const t0 = performance.now();
      await until(
        async () => {
          for (const h of survivors) if ((await write(lab, h)) === 201) return true;
          return undefined;
        },
        30_000,
        'a write after failover',
      );
      const ms = performance.now() - t0;
      times.push(ms);
      console.log(`failover trial ${i + 1}: ${old} killed → first write ${ms.toFixed(0)} ms`);
      await lab.startDaemon(old);
      await until(() => reachable(survivors[0]!), 30_000, `${old} reachable again`);
    }
    times.sort((a, b) => a - b);
    if (times.length)
      console.log(
        `failover kill → first successful write over ${TRIALS} trials: p50 ${times[Math.floor(times.length / 2)]!.toFixed(0)} ms, max ${times[times.length - 1]!.toFixed(0)} ms`,
      );
  } catch (err) {
    for (const h of MANAGERS)
      console.error(
        `--- ${h} log (tail)\n${readFileSync(lab.host(h).logFile, 'utf8').split('\n').slice(-25).join('\n')}`,
      );
    throw err;
  } finally {
    for (const a of agents.values()) a.destroy();
    if (prof) for (const h of MANAGERS) await lab.stopDaemon(h, 'SIGTERM');
    await lab.down();
  }
}

await main();
