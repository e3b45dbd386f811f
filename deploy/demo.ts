// `npm run demo`: starts a daemon in a temporary data root, talks to it with the tsswarm CLI, and stops it.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, openSync, closeSync, existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import http from 'node:http';
import { Lab } from './lab/index.js';
import { busyboxRootfsTar } from './busybox-rootfs.js';

const cliPath = join(dirname(fileURLToPath(import.meta.url)), '..', 'cli', 'main.js');
const dir = mkdtempSync(join(tmpdir(), 'tss-demo-'));
const socket = join(dir, 'tsswarm.sock');
const host = `unix://${socket}`;
const logFile = join(dir, 'daemon.log');

function step(title: string): void {
  process.stdout.write(`\n\x1b[1m== ${title}\x1b[0m\n`);
}

function run(args: string[]): void {
  process.stdout.write(`$ tsswarm ${args.join(' ')}\n`);
  const r = spawnSync(process.execPath, [cliPath, '-H', host, ...args], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`tsswarm ${args.join(' ')} exited with ${r.status}`);
}

function pinged(): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get({ socketPath: socket, path: '/_ping' }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
  });
}

async function main(): Promise<void> {
  step(`starting a daemon (data root ${join(dir, 'root')})`);
  const fd = openSync(logFile, 'a');
  const daemon = spawn(
    process.execPath,
    [cliPath, 'daemon', '--data-root', join(dir, 'root'), '--host', host],
    {
      stdio: ['ignore', fd, fd],
    },
  );
  closeSync(fd);
  const exited = new Promise<number | null>((r) => daemon.once('exit', (c) => r(c)));
  try {
    const deadline = Date.now() + 20_000;
    while (!(await pinged())) {
      if (Date.now() > deadline || daemon.exitCode !== null) throw new Error('daemon did not start');
      await new Promise((r) => setTimeout(r, 100));
    }
    step('tsswarm version');
    run(['version']);
    step('tsswarm info');
    run(['info']);
  } finally {
    step('stopping the daemon');
    daemon.kill('SIGTERM');
    const code = await exited;
    process.stdout.write(`daemon exited with ${code}; socket removed: ${!existsSync(socket)}\n`);
    if (code !== 0) process.stdout.write(readFileSync(logFile, 'utf8'));
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A swarm of three network-namespace hosts (one manager, two workers joined with a token) running a service. */
async function clusterDemo(): Promise<void> {
  const tsswarm = [process.execPath, cliPath];
  const lab = await Lab.create({ tsswarm });
  const on = (host: string, args: string[]): string => {
    process.stdout.write(`${host}$ tsswarm ${args.join(' ')}\n`);
    const r = spawnSync(process.execPath, [cliPath, '-H', `unix://${lab.host(host).socket}`, ...args], {
      encoding: 'utf8',
    });
    process.stdout.write(r.stdout);
    if (r.status !== 0) throw new Error(`tsswarm ${args.join(' ')} failed on ${host}: ${r.stderr}`);
    return r.stdout;
  };
  try {
    step('a lab swarm: manager1, worker1, worker2 (network namespaces on 198.18.0.0/16)');
    for (const h of ['manager1', 'worker1', 'worker2']) await lab.addHost(h);
    await Promise.all(['manager1', 'worker1', 'worker2'].map((h) => lab.startDaemon(h)));
    const addr = lab.host('manager1').addr;
    on('manager1', ['swarm', 'init', '--advertise-addr', addr, '--dispatcher-heartbeat', '1s']);
    const token = on('manager1', ['swarm', 'join-token', '-q', 'worker']).trim();
    for (const w of ['worker1', 'worker2']) on(w, ['swarm', 'join', '--token', token, `${addr}:2377`]);
    const deadline = Date.now() + 20_000;
    let ls = '';
    while (Date.now() < deadline && (ls.match(/ Ready /g) ?? []).length < 3) {
      await new Promise((r) => setTimeout(r, 300));
      ls = spawnSync(
        process.execPath,
        [cliPath, '-H', `unix://${lab.host('manager1').socket}`, 'node', 'ls'],
        { encoding: 'utf8' },
      ).stdout;
    }
    on('manager1', ['node', 'ls']);

    step("busybox:local on every node, imported from Debian's busybox-static (no registry needed)");
    const tar = busyboxRootfsTar(mkdtempSync(join(tmpdir(), 'tss-demo-image-')));
    for (const h of ['manager1', 'worker1', 'worker2']) on(h, ['image', 'import', tar, 'busybox:local']);

    step('a replicated service on real containers (runc under conmon on each node)');
    on('manager1', [
      'service',
      'create',
      '--name',
      'web',
      '--replicas',
      '3',
      'busybox:local',
      'httpd',
      '-f',
      '-p',
      '80',
    ]);
    on('manager1', ['service', 'ps', 'web']);
    step('scale to 6');
    on('manager1', ['service', 'scale', 'web=6']);
    on('manager1', ['service', 'ls']);
    step('a rolling update (new environment, one task at a time)');
    on('manager1', ['service', 'update', '--env-add', 'VERSION=2', 'web']);
    on('manager1', ['service', 'ps', 'web']);
    on('manager1', ['service', 'rm', 'web']);
    rmSync(dirname(tar), { recursive: true, force: true });
  } finally {
    step('removing the lab');
    await lab.down();
  }
}

main()
  .then(() => (process.exitCode ? undefined : clusterDemo()))
  .catch((err: Error) => {
    process.stderr.write(`demo failed: ${err.message}\n`);
    process.exitCode = 1;
  });
