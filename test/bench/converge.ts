// npm run bench:converge — services on real containers: a lab cluster (1 manager + 2 workers, one network
// namespace each, runc under conmon), time from `POST /services/create` to every task RUNNING for 3, 50 and 200
// replicas, time to scale 50 → 0 (all containers gone), and the scheduling delay (task created → assigned).
// Run under `flock /tmp/tss-heavy.lock`. BENCH_SIZES overrides the sizes (e.g. "3,50").
import { Agent, request } from 'node:http';
import { Lab } from '../../deploy/lab/index.js';
import type { Service, Task } from '../../api/index.js';
import { cliCommand } from '../support/daemon-process.js';
import { importBusyboxIntoDaemon } from '../support/busybox-image.js';
import { dockerOn } from '../support/lab-docker.js';

const SIZES = (process.env.BENCH_SIZES ?? '3,50,200').split(',').map(Number);
const HOSTS = ['m1', 'w1', 'w2'];
const agent = new Agent({ keepAlive: true });

function api<T>(
  lab: Lab,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; json: T }> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        socketPath: lab.host('m1').socket,
        agent,
        method,
        path,
        headers: payload ? { 'content-type': 'application/json' } : {},
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({ status: res.statusCode ?? 0, json: (text ? JSON.parse(text) : undefined) as T });
        });
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

async function until(fn: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function tasksOf(lab: Lab, service: string): Promise<Task[]> {
  const f = encodeURIComponent(JSON.stringify({ service: { [service]: true } }));
  return (await api<Task[]>(lab, 'GET', `/tasks?filters=${f}`)).json;
}

async function runningCount(lab: Lab, service: string): Promise<number> {
  const f = encodeURIComponent(JSON.stringify({ id: { [service]: true } }));
  const list = (await api<Service[]>(lab, 'GET', `/services?status=true&filters=${f}`)).json;
  return list.find((s) => s.ID === service)?.ServiceStatus?.RunningTasks ?? 0;
}

const running = (ts: Task[]) =>
  ts.filter((t) => t.DesiredState === 'running' && t.Status.State === 'running');

function containers(lab: Lab): number {
  return HOSTS.reduce((n, h) => {
    const out = dockerOn(lab, h, ['ps', '-q']).stdout.trim();
    return n + (out ? out.split('\n').length : 0);
  }, 0);
}

async function main(): Promise<void> {
  const lab = await Lab.create({ tsswarm: cliCommand() });
  try {
    for (const h of HOSTS) await lab.addHost(h);
    await Promise.all(HOSTS.map((h) => lab.startDaemon(h)));
    const m1 = lab.host('m1').addr;
    if (dockerOn(lab, 'm1', ['swarm', 'init', '--advertise-addr', m1]).status !== 0) throw new Error('init');
    const token = dockerOn(lab, 'm1', ['swarm', 'join-token', '-q', 'worker']).stdout.trim();
    for (const w of ['w1', 'w2'])
      if (dockerOn(lab, w, ['swarm', 'join', '--token', token, `${m1}:2377`]).status !== 0)
        throw new Error(w);
    for (const h of HOSTS) await importBusyboxIntoDaemon(lab.host(h).socket);

    console.log('service create → all tasks RUNNING (1 manager + 2 workers, real runc, API on the manager)');
    const delays: number[] = [];
    let fifty: string | undefined;
    for (const n of SIZES) {
      const t0 = performance.now();
      const created = await api<{ ID: string }>(lab, 'POST', '/services/create', {
        Name: `bench${n}`,
        TaskTemplate: { ContainerSpec: { Image: 'busybox:local', Args: ['sleep', '3600'] } },
        Mode: { Replicated: { Replicas: n } },
      });
      if (created.status !== 201) throw new Error(`create: ${JSON.stringify(created.json)}`);
      const id = created.json.ID;
      // Scheduling delay: from a task's creation to the first poll that sees it placed on a node. Once all are
      // placed, the service's task counts (`GET /services?status=true`, as `docker service ls`) tell when they
      // run: listing every task 20 times a second cost the manager more CPU than the rest of its work.
      const placed = new Set<string>();
      await until(
        async () => {
          if (placed.size < n) {
            const ts = await tasksOf(lab, id);
            for (const t of ts)
              if (t.NodeID && !placed.has(t.ID)) {
                placed.add(t.ID);
                delays.push(Date.now() - Date.parse(t.CreatedAt));
              }
            return running(ts).length === n;
          }
          return (await runningCount(lab, id)) === n;
        },
        300_000,
        `${n} running`,
      ).catch(async (err: unknown) => {
        const by = new Map<string, number>();
        let sample = '';
        for (const t of await tasksOf(lab, id)) {
          const k = `${t.Status.State}/${t.DesiredState}`;
          by.set(k, (by.get(k) ?? 0) + 1);
          if (t.Status.Err) sample = t.Status.Err;
        }
        console.error('task states:', JSON.stringify([...by]), 'last error:', sample);
        throw err;
      });
      const ms = performance.now() - t0;
      console.log(`  ${String(n).padStart(4)} replicas: ${(ms / 1000).toFixed(2)} s`);
      if (n === 50) fifty = id;
      else if (dockerOn(lab, 'm1', ['service', 'rm', id]).status !== 0) throw new Error('rm');
      await until(async () => containers(lab) === (fifty ? 50 : 0), 300_000, 'cleanup');
    }
    if (fifty) {
      const s = (await api<{ Version: { Index: number }; Spec: object }>(lab, 'GET', `/services/${fifty}`))
        .json;
      const t0 = performance.now();
      const res = await api(lab, 'POST', `/services/${fifty}/update?version=${s.Version.Index}`, {
        ...s.Spec,
        Mode: { Replicated: { Replicas: 0 } },
      });
      if (res.status !== 200) throw new Error(`scale: ${JSON.stringify(res.json)}`);
      await until(async () => containers(lab) === 0, 300_000, 'scale to 0');
      console.log(`  scale 50 → 0 (containers gone): ${((performance.now() - t0) / 1000).toFixed(2)} s`);
    }
    delays.sort((a, b) => a - b);
    if (delays.length)
      console.log(
        `  scheduling delay (created → seen placed, polled every ~50 ms), p50 over ${delays.length} tasks: ${delays[Math.floor(delays.length / 2)]} ms`,
      );
  } finally {
    agent.destroy();
    await lab.down();
  }
}

await main();
