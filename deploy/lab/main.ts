// `node dist/deploy/lab/main.js up --managers 1 --workers 2` / `down <id>` / `ls`: a local multi-host swarm.
import { readdirSync, existsSync, readFileSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Lab, LAB_STATE_DIR, type LabState } from './lab.js';

const cli = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'cli', 'main.js');
const tsswarm = [process.execPath, cli];

/** Each lab daemon serves /metrics on its underlay address at this port (deploy/prometheus/prometheus.yml). */
const METRICS_PORT = 9323;
/** Prometheus file_sd target files, one per lab. */
const PROMETHEUS_TARGETS_DIR = '/run/tsswarm-lab-prometheus';

function writePrometheusTargets(lab: Lab): void {
  mkdirSync(PROMETHEUS_TARGETS_DIR, { recursive: true });
  const targets = lab.state.hosts.map((h) => ({
    targets: [`${h.addr}:${METRICS_PORT}`],
    labels: { lab: lab.id, host: h.name },
  }));
  writeFileSync(join(PROMETHEUS_TARGETS_DIR, `${lab.id}.json`), JSON.stringify(targets, null, 2) + '\n');
}

function run(lab: Lab, host: string, args: string[]): string {
  const r = spawnSync(tsswarm[0]!, [...tsswarm.slice(1), '-H', `unix://${lab.host(host).socket}`, ...args], {
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`tsswarm ${args.join(' ')} on ${host}: ${r.stderr.trim()}`);
  return r.stdout;
}

async function up(managers: number, workers: number, heartbeat: string): Promise<void> {
  if (managers < 1) throw new Error('a lab needs at least one manager');
  const lab = await Lab.create({ tsswarm });
  try {
    const names = [
      ...Array.from({ length: managers }, (_, i) => `manager${i + 1}`),
      ...Array.from({ length: workers }, (_, i) => `worker${i + 1}`),
    ];
    for (const n of names) await lab.addHost(n);
    await Promise.all(
      names.map((n) => lab.startDaemon(n, ['--metrics-addr', `${lab.host(n).addr}:${METRICS_PORT}`])),
    );
    writePrometheusTargets(lab);
    const first = lab.host('manager1');
    run(lab, 'manager1', [
      'swarm',
      'init',
      '--advertise-addr',
      first.addr,
      '--dispatcher-heartbeat',
      heartbeat,
    ]);
    const managerToken = run(lab, 'manager1', ['swarm', 'join-token', '-q', 'manager']).trim();
    // Managers join one at a time: each becomes a Raft member before the next asks.
    for (const m of names.filter((n) => n.startsWith('manager') && n !== 'manager1'))
      run(lab, m, ['swarm', 'join', '--token', managerToken, `${first.addr}:2377`]);
    const token = run(lab, 'manager1', ['swarm', 'join-token', '-q', 'worker']).trim();
    for (const w of names.filter((n) => n.startsWith('worker')))
      run(lab, w, ['swarm', 'join', '--token', token, `${first.addr}:2377`]);
    process.stdout.write(`lab ${lab.id} is up\n`);
    for (const h of lab.state.hosts)
      process.stdout.write(
        `  ${h.name.padEnd(10)} ${h.addr.padEnd(15)} TSSWARM_HOST=unix://${h.socket}  metrics http://${h.addr}:${METRICS_PORT}/metrics\n`,
      );
    process.stdout.write(
      `remove it with: node ${join(dirname(fileURLToPath(import.meta.url)), 'main.js')} down ${lab.id}\n`,
    );
  } catch (err) {
    await lab.down();
    rmSync(join(PROMETHEUS_TARGETS_DIR, `${lab.id}.json`), { force: true });
    throw err;
  }
}

function ids(): string[] {
  return existsSync(LAB_STATE_DIR)
    ? readdirSync(LAB_STATE_DIR)
        .filter((f) => f.endsWith('.json'))
        .map((f) => f.slice(0, -5))
    : [];
}

async function main(argv: string[]): Promise<void> {
  const [cmd, ...rest] = argv;
  const opt = (name: string, def: string) => {
    const i = rest.indexOf(name);
    return i >= 0 ? rest[i + 1]! : def;
  };
  if (cmd === 'up')
    return up(Number(opt('--managers', '1')), Number(opt('--workers', '2')), opt('--heartbeat', '1s'));
  if (cmd === 'down') {
    const targets = rest.includes('--all') ? ids() : rest.filter((a) => !a.startsWith('-'));
    if (targets.length === 0) throw new Error('usage: down <lab id>... | --all');
    for (const id of targets) {
      await Lab.load(id, { tsswarm }).down();
      rmSync(join(PROMETHEUS_TARGETS_DIR, `${id}.json`), { force: true });
    }
    return;
  }
  if (cmd === 'ls') {
    for (const id of ids()) {
      const s = JSON.parse(readFileSync(join(LAB_STATE_DIR, `${id}.json`), 'utf8')) as LabState;
      process.stdout.write(`${id}  ${s.hosts.map((h) => `${h.name}=${h.addr}`).join(' ')}\n`);
    }
    return;
  }
  throw new Error('usage: lab up [--managers 1] [--workers N] [--heartbeat 1s] | down <id>|--all | ls');
}

main(process.argv.slice(2)).catch((err: Error) => {
  process.stderr.write(`lab: ${err.message}\n`);
  process.exitCode = 1;
});
