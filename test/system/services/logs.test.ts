// Service logs across a lab cluster (1 manager + 2 workers, real containers): the stock docker CLI and
// `tsswarm service logs` read the lines of every replica through the manager, which gathers them from the
// agents; bad input is refused; followers that disconnect leave no worker-side stream or open log file behind.
import test from 'ava';
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import http from 'node:http';
import { Lab } from '../../../deploy/lab/index.js';
import { cliCommand } from '../../support/daemon-process.js';
import { startLabSwarm } from '../../support/lab-swarm.js';
import { apiGet, dockerOn as docker, eventually } from '../../support/lab-docker.js';

const HOSTS = ['m1', 'w1', 'w2'];
const LINE = /^web\.(\d+)\.([a-z0-9]{12})@(\S+?)\s+\| line (\d+)$/;

interface Parsed {
  slot: number;
  task: string;
  node: string;
  n: number;
}

function parse(out: string): Parsed[] {
  return out
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const m = LINE.exec(l);
      if (!m) throw new Error(`unexpected log line: ${JSON.stringify(l)}`);
      return { slot: Number(m[1]), task: m[2]!, node: m[3]!, n: Number(m[4]) };
    });
}

/** Payloads of a multiplexed body. */
function demux(buf: Buffer): string[] {
  const out: string[] = [];
  for (let off = 0; off + 8 <= buf.length;) {
    const len = buf.readUInt32BE(off + 4);
    out.push(buf.subarray(off + 8, off + 8 + len).toString());
    off += 8 + len;
  }
  return out;
}

function byTask(lines: Parsed[]): Map<string, Parsed[]> {
  const m = new Map<string, Parsed[]>();
  for (const l of lines) m.set(l.task, [...(m.get(l.task) ?? []), l]);
  return m;
}

/** Each task's numbers go up by one: in order, none lost. */
function consecutive(lines: Parsed[]): boolean {
  return lines.every((l, i) => i === 0 || l.n === lines[i - 1]!.n + 1);
}

/** Descriptors of container log files the lab daemons hold open (the worker-side follow streams). */
function openLogFiles(lab: Lab): number {
  let n = 0;
  for (const h of HOSTS) {
    const pid = lab.host(h).pid;
    if (!pid) continue;
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      try {
        if (/container\.log(\.\d+)?$/.test(readlinkSync(`/proc/${pid}/fd/${fd}`))) n++;
      } catch {
        // closed meanwhile
      }
    }
  }
  return n;
}

interface Follower {
  close: () => void;
  ended: Promise<void>;
  /** The body so far. */
  body: () => Buffer;
}

/** Opens a followed log request, resolves once the first frame arrived; `close()` disconnects. */
function follow(socket: string, path: string): Promise<Follower> {
  return new Promise((resolve, reject) => {
    const req = http.get({ socketPath: socket, path }, (res) => {
      if (res.statusCode !== 200) return reject(new Error(`GET ${path}: ${res.statusCode}`));
      const ended = new Promise<void>((r) => {
        res.on('end', r);
        res.on('close', r);
      });
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.once('data', () =>
        resolve({ close: () => req.destroy(), ended, body: () => Buffer.concat(chunks) }),
      );
    });
    req.on('error', reject);
  });
}

test('service logs: docker and tsswarm show every replica with its prefix, --tail per task, -f streams; bad input; no leak', async (t) => {
  t.timeout(240_000);
  const lab = await Lab.create({ tsswarm: cliCommand() });
  try {
    await startLabSwarm(lab, { managers: ['m1'], workers: ['w1', 'w2'] });

    const create = docker(lab, 'm1', [
      'service',
      'create',
      '--detach',
      '--name',
      'web',
      '--replicas',
      '3',
      '--replicas-max-per-node',
      '1',
      'busybox:local',
      'sh',
      '-c',
      'i=0; while true; do echo line $i; i=$((i+1)); sleep 0.2; done',
    ]);
    t.is(create.status, 0, create.stderr);
    const tasks = await eventually(
      () => {
        const out = docker(lab, 'm1', [
          'service',
          'ps',
          'web',
          '--no-trunc',
          '--filter',
          'desired-state=running',
          '--format',
          '{{.ID}} {{.Name}} {{.Node}} {{.CurrentState}}',
        ]).stdout;
        const rows = out
          .trim()
          .split('\n')
          .filter((l) => / Running /.test(l))
          .map((l) => l.split(' '));
        return rows.length === 3 && rows;
      },
      60_000,
      '3 running replicas',
    );
    const expected = new Map(
      tasks.map(([id, name, node]) => [id!.slice(0, 12), { name: name!, node: node! }]),
    );
    t.deepEqual(tasks.map((r) => r[2]).sort(), [...HOSTS].sort(), 'one replica per node');
    // Give every replica a few lines.
    await new Promise((r) => setTimeout(r, 2500));

    // docker service logs: all replicas, prefixes web.<slot>.<task id>@<node>, each task's lines in order.
    const all = docker(lab, 'm1', ['service', 'logs', 'web']);
    t.is(all.status, 0, all.stderr);
    const lines = parse(all.stdout);
    const tasksSeen = byTask(lines);
    t.is(tasksSeen.size, 3, all.stdout);
    for (const [task, ls] of tasksSeen) {
      const want = expected.get(task);
      t.truthy(want, `task ${task} is one of the service's`);
      t.true(ls.every((l) => `web.${l.slot}` === want!.name && l.node === want!.node));
      t.true(ls.length >= 5, `${task}: ${ls.length} lines`);
      t.is(ls[0]!.n, 0, 'from the first line');
      t.true(consecutive(ls), `${task} in order`);
    }

    // --tail 5: five lines per task.
    const tail = docker(lab, 'm1', ['service', 'logs', '--tail', '5', 'web']);
    t.is(tail.status, 0, tail.stderr);
    const tailed = byTask(parse(tail.stdout));
    t.is(tailed.size, 3);
    for (const ls of tailed.values()) {
      t.is(ls.length, 5);
      t.true(consecutive(ls));
    }

    // From a follower manager: it forwards the subscription to the leader.
    t.is(docker(lab, 'm1', ['node', 'promote', 'w1']).status, 0);
    const viaFollower = await eventually<string>(
      () => {
        const r = docker(lab, 'w1', ['service', 'logs', '--tail', '3', 'web']);
        // While w1 turns manager its agent reconnects: its task's lines come once its session is back.
        return r.status === 0 && byTask(parse(r.stdout)).size === 3 && r.stdout;
      },
      30_000,
      'service logs on the promoted manager w1',
    );
    const fromFollower = byTask(parse(viaFollower));
    t.is(fromFollower.size, 3, viaFollower);
    for (const ls of fromFollower.values()) t.is(ls.length, 3);

    // One task's logs, with timestamps and --no-task-ids.
    const [oneId] = tasks[0]!;
    const one = docker(lab, 'm1', [
      'service',
      'logs',
      '--timestamps',
      '--no-task-ids',
      '--tail',
      '2',
      oneId!,
    ]);
    t.is(one.status, 0, one.stderr);
    const oneLines = one.stdout.trim().split('\n');
    t.is(oneLines.length, 2, one.stdout);
    for (const l of oneLines)
      t.regex(
        l,
        new RegExp(
          `^\\d{4}-\\d\\d-\\d\\dT\\S+Z ${tasks[0]![1]!.replace('.', '\\.')}@${tasks[0]![2]}\\s+\\| line \\d+$`,
        ),
      );

    // tsswarm service logs -f: streams new lines from every replica until killed.
    const [cmd, ...pre] = lab.cli('m1');
    const child = spawn(cmd!, [...pre, 'service', 'logs', '-f', '--tail', '1', 'web'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let streamed = '';
    child.stdout.on('data', (c: Buffer) => (streamed += c.toString()));
    try {
      await eventually(
        () => {
          const seen = byTask(parse(streamed.slice(0, streamed.lastIndexOf('\n') + 1)));
          return seen.size === 3 && [...seen.values()].every((ls) => ls.length >= 6 && consecutive(ls));
        },
        30_000,
        'tsswarm service logs -f to stream 6 lines of each replica',
      );
    } finally {
      child.kill('SIGTERM');
    }
    for (const l of parse(streamed.slice(0, streamed.lastIndexOf('\n') + 1)))
      t.is(expected.get(l.task)?.node, l.node);

    // Following survives a worker's daemon restart: its container lives on and its new lines keep coming.
    const w2Task = tasks.find((r) => r[2] === 'w2')![0]!;
    const through = await follow(
      lab.host('m1').socket,
      '/v1.50/services/web/logs?stdout=1&stderr=1&follow=1&tail=1&details=1&timestamps=1',
    );
    await lab.stopDaemon('w2');
    await lab.startDaemon('w2');
    const restartedAt = Date.now();
    await eventually(
      () =>
        demux(through.body()).some(
          (l) => l.includes(`task.id=${w2Task}`) && Date.parse(l.split(' ')[0]!) > restartedAt,
        ),
      30_000,
      "new lines of w2's task after its daemon restarted",
    );
    through.close();

    // Bad input.
    const unknown = docker(lab, 'm1', ['service', 'logs', 'nope']);
    t.not(unknown.status, 0);
    t.regex(unknown.stderr, /no such task or service: nope/);
    const notFound = await apiGet(lab, 'm1', '/v1.50/services/nope/logs?stdout=1');
    t.is(notFound.status, 404);
    t.deepEqual(notFound.body, { message: 'service nope not found' });
    const badSince = await apiGet(lab, 'm1', '/v1.50/services/web/logs?stdout=1&since=yesterday');
    t.is(badSince.status, 400);
    t.regex((badSince.body as { message: string }).message, /since/);

    // Disconnecting followers: the worker-side streams (and their open log files) go with them.
    const path = '/v1.50/services/web/logs?stdout=1&stderr=1&follow=1&tail=1&details=1';
    const probe = await follow(lab.host('m1').socket, path);
    await eventually(() => openLogFiles(lab) >= 3, 10_000, 'a follower to hold the 3 log files open');
    probe.close();
    await eventually(() => openLogFiles(lab) === 0, 10_000, 'the log files to be closed');
    const started = Date.now();
    for (let i = 0; i < 100; i++) (await follow(lab.host('m1').socket, path)).close();
    t.log(`100 follow connects/disconnects in ${Date.now() - started} ms`);
    await eventually(() => openLogFiles(lab) === 0, 15_000, 'no log file left open after 100 cycles');

    // Following ends cleanly when the service is removed.
    const last = await follow(lab.host('m1').socket, path);
    t.is(docker(lab, 'm1', ['service', 'rm', 'web']).status, 0);
    const ended = await Promise.race([
      last.ended.then(() => true),
      new Promise<boolean>((r) => setTimeout(() => r(false), 10_000)),
    ]);
    t.true(ended, 'the followed response ends when the service is removed');
    last.close();
    await eventually(() => openLogFiles(lab) === 0, 15_000, 'no log file open after removal');
  } catch (err) {
    // The daemons' view of sessions and log streams, for a failure's diagnosis.
    for (const h of HOSTS)
      t.log(
        h,
        readFileSync(lab.host(h).logFile, 'utf8')
          .split('\n')
          .filter((l) => /publish|session|subscri|reconnect|promot|dispatcher/i.test(l))
          .slice(-40)
          .join('\n'),
      );
    throw err;
  } finally {
    await lab.down();
  }
});
