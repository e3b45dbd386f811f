import test from 'ava';
import { mkdirSync, writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cgroupVersion } from '../../../runtime/index.js';
import { tempDir } from '../../support/temp.js';

test('cgroup version: unified tree is v2, per-controller hierarchies are v1', (t) => {
  const dir = tempDir();
  try {
    const v1 = join(dir.path, 'v1');
    for (const c of ['memory', 'pids', 'cpu']) mkdirSync(join(v1, c), { recursive: true });
    t.is(cgroupVersion(v1), '1');
    const v2 = join(dir.path, 'v2');
    mkdirSync(v2);
    writeFileSync(join(v2, 'cgroup.controllers'), 'cpu memory pids\n');
    t.is(cgroupVersion(v2), '2');
  } finally {
    dir.remove();
  }
});

test('cgroup version of this host matches its /sys/fs/cgroup mount', (t) => {
  const mounts = readFileSync('/proc/self/mounts', 'utf8');
  const expected = /^\S+ \/sys\/fs\/cgroup cgroup2 /m.test(mounts) ? '2' : '1';
  t.is(cgroupVersion(), expected);
});
