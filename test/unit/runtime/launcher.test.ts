import test from 'ava';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import {
  launch,
  launchStreaming,
  processAlive,
  run,
  RunError,
  type LaunchedChild,
} from '../../../runtime/index.js';

const execFileP = promisify(execFile);

const spawned = (child: LaunchedChild) => new Promise<number>((r) => child.once('spawn', r));
const closed = (child: LaunchedChild) =>
  new Promise<[number | null, string | null]>((r) =>
    child.once('close', (c: number | null, s: string | null) => r([c, s])),
  );

test('run resolves with the output of a zero exit and feeds stdin', async (t) => {
  t.deepEqual(await run('sh', ['-c', 'echo out; echo err >&2']), { stdout: 'out\n', stderr: 'err\n' });
  t.is((await run('cat', [], { input: 'piped' })).stdout, 'piped');
  t.is((await run('pwd', [], { cwd: '/tmp' })).stdout, '/tmp\n');
  t.is((await run('sh', ['-c', 'echo "$X"'], { env: { X: "it's $HOME" } })).stdout, "it's $HOME\n");
});

test('run rejects with the exit code and stderr, a spawn error code, or a timeout', async (t) => {
  const failed = await t.throwsAsync(run('sh', ['-c', 'echo nope >&2; exit 3']), { instanceOf: RunError });
  t.is(failed.code, 3);
  t.is(failed.stderr, 'nope\n');
  t.regex(failed.message, /nope/);
  const missing = await t.throwsAsync(run('/nonexistent/tss-no-such-binary', []), { instanceOf: RunError });
  t.is(missing.code, 'ENOENT');
  const slow = await t.throwsAsync(run('sleep', ['5'], { timeoutMs: 100 }), { instanceOf: RunError });
  t.true(slow.timedOut);
  t.is(slow.signal, 'SIGKILL');
});

test('run caps collected output at maxBuffer', async (t) => {
  const { stdout } = await run('sh', ['-c', 'head -c 300000 /dev/zero'], { maxBuffer: 1000 });
  t.true(stdout.length < 300000);
  t.true(stdout.length >= 1000);
});

test('arguments reach the command literally, whatever characters they hold', async (t) => {
  const args = ["it's", 'a b', '$HOME', '`id`', 'line\nbreak', '"q"', '\\', '*', ';', '&', ''];
  const { stdout } = await run('sh', ['-c', 'for a in "$@"; do printf "[%s]" "$a"; done', 'sh', ...args]);
  t.is(stdout, args.map((a) => `[${a}]`).join(''));
});

test('launch reports the pid and the end; a kill shows as the signal', async (t) => {
  const child = launch('sleep', ['30']);
  t.true((await spawned(child)) > 0);
  child.kill('SIGTERM');
  const [code, signal] = await closed(child);
  t.is(code, null);
  t.is(signal, 'SIGTERM');
});

test('a detached launch reports its own pid, gets its env and cwd, and writes stderr to its file', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tss-launch-test-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const errFile = join(dir, 'err');
  const child = launch('sh', ['-c', 'echo "$$ $X $PWD" >&2; sleep 0.2'], {
    detached: true,
    stderrFile: errFile,
    env: { X: "it's" },
    cwd: dir,
  });
  let closes = 0;
  child.on('close', () => closes++);
  const pid = await spawned(child);
  for (let i = 0; i < 100 && processAlive(pid); i++) await new Promise((r) => setTimeout(r, 20));
  t.is(readFileSync(errFile, 'utf8'), `${pid} it's ${dir}\n`);
  t.is(closes, 0);
});

test('an invalid environment variable name is refused before anything runs', (t) => {
  t.throws(() => launch('true', [], { env: { 'A-B': 'x' } }), {
    message: 'invalid environment variable name A-B',
  });
});

test('more commands than one launcher shell takes all complete', async (t) => {
  let done = 0;
  for (let batch = 0; batch < 21; batch++)
    done += (await Promise.all(Array.from({ length: 100 }, () => run('true', [])))).length;
  t.is(done, 2100);
});

test('launchStreaming streams output, reports the pid and can be killed', async (t) => {
  const child = launchStreaming('sh', ['-c', 'echo ready; exec sleep 30']);
  t.true((await spawned(child)) > 0);
  await new Promise<void>((r) => child.once('stdout', () => r()));
  child.kill('SIGKILL');
  const [code, signal] = await closed(child);
  t.is(code, null);
  t.is(signal, 'SIGKILL');
});

test('many commands at once all complete, each with its own output', async (t) => {
  const outs = await Promise.all(Array.from({ length: 40 }, (_, i) => run('echo', [String(i)])));
  t.deepEqual(
    outs.map((o) => o.stdout),
    Array.from({ length: 40 }, (_, i) => `${i}\n`),
  );
});

test('a script waiting only on a command stays alive for it and then exits (threads hold no ref when idle)', async (t) => {
  const index = fileURLToPath(new URL('../../../runtime/process/index.ts', import.meta.url));
  const script = `const { run } = await import(${JSON.stringify(index)});
    const r = await run('sh', ['-c', 'sleep 0.3; echo done']);
    process.stdout.write(r.stdout);`;
  const started = Date.now();
  const { stdout } = await execFileP(
    process.execPath,
    ['--import', 'tsx', '--input-type=module', '-e', script],
    {
      timeout: 30_000,
    },
  );
  t.is(stdout, 'done\n');
  t.true(Date.now() - started < 30_000);
});
