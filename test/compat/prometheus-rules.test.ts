// deploy/prometheus against Debian's promtool: the scrape config and rules are valid, and the alerts fire (and
// stay quiet) on the synthetic series of deploy/prometheus/tsswarm-rules.test.yml.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from '../support/daemon-process.js';

const DIR = join(REPO_ROOT, 'deploy', 'prometheus');

function promtool(args: string[]) {
  const r = spawnSync('promtool', args, { cwd: DIR, encoding: 'utf8', timeout: 60_000 });
  if (r.error) throw r.error;
  return { status: r.status, out: r.stdout + r.stderr };
}

test('promtool accepts deploy/prometheus/prometheus.yml and its rule file', (t) => {
  const config = promtool(['check', 'config', 'prometheus.yml']);
  t.is(config.status, 0, config.out);
  t.regex(config.out, /SUCCESS: 1 rule files found/);
  const rules = promtool(['check', 'rules', 'tsswarm-rules.yml']);
  t.is(rules.status, 0, rules.out);
});

test('the alerts of deploy/prometheus fire on the situations they name (promtool test rules)', (t) => {
  const r = promtool(['test', 'rules', 'tsswarm-rules.test.yml']);
  t.is(r.status, 0, r.out);
  t.regex(r.out, /SUCCESS/);
});
