// npm run bench:logs (issue #11) — service logs throughput and the /metrics scrape with 10,000 tasks.
//
// Part 1, on a lab swarm (1 manager + 2 workers, real containers): a service of 3 replicas, one per node, each
// writing BENCH_LINES (default 200,000) ~100-byte lines as fast as busybox sh can, then sleeping. Measured:
//   - API follow, live: `GET /services/{id}/logs?follow=1&stdout=1&stderr=1` on the manager's socket, opened
//     once the 3 tasks run (while they write), 8-byte frames parsed, until every line arrived;
//   - API follow, backlog: the same request once all lines are written (delivery of what is on disk);
//   - `docker service logs -f` piped, lines counted (CLI formatting included);
//   - anchor: `cat` of the three conmon k8s-file logs (<dataRoot>/…/container.log) into this process.
// Every reading is bounded by BENCH_TIMEOUT_S (default 60) and prints how many lines it got.
// A reading that times out prints the last lines of each daemon's log (the agents' warnings).
// Part 2: test/bench/metrics.ts (10,000 tasks, in-process manager store) with BENCH_ROUNDS=20.
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, openSync, readFileSync, readSync, readdirSync, statSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { Lab } from '../../deploy/lab/index.js';
import { REPO_ROOT, cliCommand } from '../support/daemon-process.js';
import { dockerOn, eventually } from '../support/lab-docker.js';
import { startLabSwarm } from '../support/lab-swarm.js';

const N = Number(process.env.BENCH_LINES ?? 200_000);
const TIMEOUT_MS = Number(process.env.BENCH_TIMEOUT_S ?? 60) * 1000;
const HOSTS = ['m1', 'w1', 'w2'];
const PAD = 'x'.repeat(84);
const NL = 0x0a;

interface Reading {
  method: string;
  lines: number;
  seconds: number;
  note?: string;
}

function countNewlines(buf: Buffer, from = 0, to = buf.length): number {
  let n = 0;
  for (let i = buf.indexOf(NL, from); i !== -1 && i < to; i = buf.indexOf(NL, i + 1)) n++;
  return n;
}

/** Follows the service's logs on a socket, counting the lines of the multiplexed frames until `want`. */
function followApi(socket: string, service: string, want: number): Promise<Reading & { frames: number }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    let lines = 0;
    let frames = 0;
    let pending: Buffer = Buffer.alloc(0);
    let done = false;
    const path = `/services/${service}/logs?follow=1&stdout=1&stderr=1`;
    const finish = (note?: string) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      req.destroy();
      resolve({ method: '', lines, frames, seconds: (performance.now() - t0) / 1000, note });
    };
    const timer = setTimeout(() => finish(`timed out after ${TIMEOUT_MS / 1000} s`), TIMEOUT_MS);
    const req = http.get({ socketPath: socket, path }, (res) => {
      if (res.statusCode !== 200) {
        clearTimeout(timer);
        done = true;
        reject(new Error(`GET ${path}: ${res.statusCode}`));
        return;
      }
      res.on('data', (chunk: Buffer) => {
        const buf = pending.length ? Buffer.concat([pending, chunk]) : chunk;
        let off = 0;
        while (off + 8 <= buf.length) {
          const len = buf.readUInt32BE(off + 4);
          if (off + 8 + len > buf.length) break;
          lines += countNewlines(buf, off + 8, off + 8 + len);
          frames++;
          off += 8 + len;
        }
        pending = buf.subarray(off);
        if (lines >= want) finish();
      });
      res.on('end', () => finish('stream ended'));
    });
    req.on('error', (err) => {
      if (!done) {
        clearTimeout(timer);
        done = true;
        reject(err);
      }
    });
  });
}

/** Runs a command, counting the lines of its stdout until `want` (then kills it) or it exits. */
function countCommand(
  argv: string[],
  env: NodeJS.ProcessEnv,
  want: number,
): Promise<Reading & { stderr: string }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(argv[0]!, argv.slice(1), { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let lines = 0;
    let stderr = '';
    let done = false;
    const finish = (note?: string) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      const seconds = (performance.now() - t0) / 1000;
      if (child.exitCode === null) child.kill('SIGTERM');
      resolve({ method: '', lines, seconds, note, stderr: stderr.slice(0, 500) });
    };
    const timer = setTimeout(() => finish(`timed out after ${TIMEOUT_MS / 1000} s`), TIMEOUT_MS);
    child.stdout.on('data', (c: Buffer) => {
      lines += countNewlines(c);
      if (lines >= want) finish();
    });
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => finish(lines >= want ? undefined : `exited ${code}`));
  });
}

/** The container.log files under a data root. */
function containerLogs(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...containerLogs(p));
    else if (e.isFile() && e.name === 'container.log') out.push(p);
  }
  return out;
}

/** The last bytes of a file. */
function tail(path: string, bytes = 400): string {
  const size = statSync(path).size;
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(Math.min(bytes, size));
    readSync(fd, buf, 0, buf.length, size - buf.length);
    return buf.toString('utf8');
  } finally {
    closeSync(fd);
  }
}

function docker(lab: Lab, host: string, args: string[]): string {
  const r = dockerOn(lab, host, args);
  if (r.status !== 0) throw new Error(`docker ${args.join(' ')}: ${r.stderr || String(r.error)}`);
  return r.stdout.trim();
}

function table(rows: Reading[], anchor: Reading | undefined): string {
  const rate = (r: Reading) => r.lines / r.seconds;
  const head = ['method', 'lines', 'seconds', 'lines/s', 'ratio vs cat', 'note'];
  const body = rows.map((r) => [
    r.method,
    String(r.lines),
    r.seconds.toFixed(2),
    Math.round(rate(r)).toLocaleString('en-US'),
    anchor ? (rate(r) / rate(anchor)).toFixed(3) : '-',
    r.note ?? '',
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  return [head, ...body].map((cols) => cols.map((c, i) => c.padEnd(widths[i]!)).join(' | ')).join('\n');
}

async function part1(): Promise<void> {
  const want = 3 * N;
  const lab = await Lab.create({ tsswarm: cliCommand() });
  const rows: Reading[] = [];
  let anchor: Reading | undefined;
  try {
    const t0 = performance.now();
    await startLabSwarm(lab, { managers: ['m1'], workers: ['w1', 'w2'] });
    process.stdout.write(`lab swarm up in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
    const id = docker(lab, 'm1', [
      'service',
      'create',
      '--detach',
      '--name',
      'flood',
      '--replicas',
      '3',
      '--replicas-max-per-node',
      '1',
      'busybox:local',
      'sh',
      '-c',
      `i=0; while [ $i -lt ${N} ]; do echo "line $i ${PAD}"; i=$((i+1)); done; sleep 3600`,
    ]);
    const running = await eventually(
      () => {
        const out = dockerOn(lab, 'm1', [
          'service',
          'ps',
          'flood',
          '--filter',
          'desired-state=running',
          '--format',
          '{{.Node}} {{.CurrentState}}',
        ]).stdout;
        const rows = out.split('\n').filter((l) => / Running /.test(l));
        return rows.length === 3 && rows;
      },
      60_000,
      '3 running replicas',
    );
    process.stdout.write(`3 replicas running: ${running.map((r) => r.split(' ')[0]).join(', ')}\n`);
    const socket = lab.host('m1').socket;

    // (a) live: the writers are still going.
    const live = await followApi(socket, id, want);
    rows.push({
      ...live,
      method: 'API follow, live (while writing)',
      note: [live.note, `${live.frames} frames`].filter(Boolean).join('; '),
    });

    // Wait for every writer's last line, then read the files' first and last timestamps (the writers' rate).
    const last = `line ${N - 1} `;
    const files = await eventually(
      () => {
        const fs = HOSTS.flatMap((h) => containerLogs(lab.host(h).dataRoot)).filter((f) =>
          tail(f).includes(last),
        );
        return fs.length === 3 && fs;
      },
      TIMEOUT_MS,
      'the 3 writers to finish',
    );
    const spans = files.map((f) => {
      const stamps = tail(f)
        .trim()
        .split('\n')
        .map((l) => l.split(' ')[0]!);
      const fd = openSync(f, 'r');
      const head = Buffer.alloc(64);
      readSync(fd, head, 0, 64, 0);
      closeSync(fd);
      const first = Date.parse(head.toString().split(' ')[0]!);
      return (Date.parse(stamps[stamps.length - 1]!) - first) / 1000;
    });
    const sizes = files.map((f) => statSync(f).size);
    process.stdout.write(
      `writers: ${N} lines each, ${(sizes.reduce((a, b) => a + b, 0) / 2 ** 20).toFixed(1)} MiB of k8s-file logs, ` +
        `written in ${spans.map((s) => s.toFixed(1)).join(' / ')} s ` +
        `(${spans.map((s) => Math.round(N / s).toLocaleString('en-US')).join(' / ')} lines/s per task)\n`,
    );

    // (b) backlog: everything is on disk.
    const backlog = await followApi(socket, id, want);
    rows.push({
      ...backlog,
      method: 'API follow, backlog (written)',
      note: [backlog.note, `${backlog.frames} frames`].filter(Boolean).join('; '),
    });

    // (c) the stock docker CLI, formatted lines piped here.
    const cli = await countCommand(
      ['docker', 'service', 'logs', '-f', 'flood'],
      {
        ...process.env,
        DOCKER_HOST: `unix://${socket}`,
        DOCKER_CONFIG: lab.host('m1').dir,
      },
      want,
    );
    rows.push({
      ...cli,
      method: 'docker service logs -f | count',
      note: cli.note && `${cli.note} ${cli.stderr}`,
    });

    // (d) the anchor: cat of the same files (page cache warm: the readings above read them).
    anchor = {
      ...(await countCommand(['cat', ...files], process.env, Infinity)),
      method: 'cat of the 3 log files',
    };
    anchor.note = undefined;
    rows.push(anchor);

    process.stdout.write(`\nservice logs, 3 tasks x ${N} lines (~100 bytes each)\n${table(rows, anchor)}\n`);
    if (rows.some((r) => r.note?.includes('timed out'))) {
      for (const h of HOSTS) {
        const log = readFileSync(lab.host(h).logFile, 'utf8').trim().split('\n').slice(-15);
        process.stdout.write(`\n${h} daemon log, last lines:\n${log.join('\n')}\n`);
      }
    }
    docker(lab, 'm1', ['service', 'rm', 'flood']);
  } finally {
    await lab.down();
  }
}

function part2(): void {
  process.stdout.write(
    '\n/metrics scrape on a manager store with 10,000 tasks (test/bench/metrics.ts, 20 rounds)\n',
  );
  const r = spawnSync(
    process.execPath,
    [...process.execArgv, join(REPO_ROOT, 'test', 'bench', 'metrics.ts')],
    {
      env: { ...process.env, BENCH_TASKS: '10000', BENCH_ROUNDS: '20' },
      encoding: 'utf8',
      timeout: 120_000,
    },
  );
  process.stdout.write(r.stdout);
  if (r.status !== 0) throw new Error(`bench:metrics exited ${r.status}: ${r.stderr}`);
}

async function main(): Promise<void> {
  await part1();
  part2();
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:logs: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
