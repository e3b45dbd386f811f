import test from 'ava';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { Lab } from '../../../deploy/lab/index.js';
import { cliCommand } from '../../support/daemon-process.js';

function forwardPolicy(): string {
  return /-P FORWARD (\w+)/.exec(execFileSync('iptables', ['-S', 'FORWARD'], { encoding: 'utf8' }))![1]!;
}

test('lab hosts have their own network and hostname, talk over the bridge under a DROP forward policy, and leave nothing behind', async (t) => {
  const policy = forwardPolicy();
  const lab = await Lab.create({ tsswarm: cliCommand() });
  try {
    execFileSync('iptables', ['-P', 'FORWARD', 'DROP']);
    await lab.addHost('n1');
    await lab.addHost('n2');
    await Promise.all([lab.startDaemon('n1'), lab.startDaemon('n2')]);
    for (const name of ['n1', 'n2']) {
      const r = spawnSync(lab.cli(name)[0]!, [...lab.cli(name).slice(1), 'info', '--format', '{{.Name}}'], {
        encoding: 'utf8',
      });
      t.is(r.stdout.trim(), name, r.stderr);
    }
    const n1 = lab.host('n1');
    const n2 = lab.host('n2');
    t.regex(n1.addr, /^198\.18\.\d+\.1$/);
    const ping = spawnSync(
      'ip',
      ['netns', 'exec', n1.netns, 'busybox', 'ping', '-c', '1', '-W', '2', n2.addr],
      { encoding: 'utf8' },
    );
    t.is(ping.status, 0, ping.stdout + ping.stderr);
    await lab.stopDaemon('n2', 'SIGKILL');
    await lab.startDaemon('n2');
    t.true(existsSync(n2.socket));
  } finally {
    execFileSync('iptables', ['-P', 'FORWARD', policy]);
    await lab.down();
  }
  const netns = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' });
  t.false(netns.includes(`tss-${lab.id}-`));
  const links = execFileSync('ip', ['-o', 'link'], { encoding: 'utf8' });
  t.false(links.includes(`tss${lab.id}`));
  t.false(execFileSync('iptables', ['-S', 'FORWARD'], { encoding: 'utf8' }).includes(`tss-lab-${lab.id}`));
  t.false(existsSync(lab.state.dir));
});
