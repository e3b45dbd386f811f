// Files held in memory only (how secrets and configs reach a container): a tmpfs (0700) under the container's
// directory, each file bind-mounted read-only with its owner and mode; gone when the container is removed, when a
// create fails, and when a restarted manager discards a half-made container directory.
import test from 'ava';
import { readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createLogger } from '../../../api/index.js';
import { ContainerManager, filesDirOf, type ContainerFile } from '../../../runtime/index.js';
import { uniqueName } from '../../support/temp.js';
import { managerFixture, type ManagerFixture } from './fixture.js';

let f: ManagerFixture;
test.before(async () => {
  f = await managerFixture();
});
test.after.always(async () => {
  await f?.cleanup();
});

function tmpfsAt(path: string): boolean {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' '))
    .some((x) => x[4] === path && x[x.indexOf('-') + 1] === 'tmpfs');
}

const files = (): ContainerFile[] => [
  { target: '/run/secrets/db', data: Buffer.from('hunter2'), uid: 0, gid: 0, mode: 0o444 },
  { target: '/etc/app.conf', data: Buffer.from('a=1\n'), uid: 1000, gid: 100, mode: 0o400 },
];

test.serial(
  'files appear read-only at their targets with owner and mode; the tmpfs goes with the container',
  async (t) => {
    const { Id } = await f.manager.create(
      {
        Image: 'busybox:local',
        Cmd: [
          'sh',
          '-c',
          'cat /run/secrets/db /etc/app.conf; stat -c "%a %u %g" /run/secrets/db /etc/app.conf; (echo x > /run/secrets/db) 2>/dev/null || echo refused',
        ],
      },
      uniqueName(),
      { files: files() },
    );
    const dir = filesDirOf(f.manager.dirOf(Id));
    t.true(tmpfsAt(dir));
    t.is((statSync(dir).mode & 0o777).toString(8), '700');
    await f.manager.startContainer(Id);
    t.is((await f.manager.wait(Id)).StatusCode, 0);
    t.is(f.logs(Id), 'hunter2a=1\n444 0 0\n400 1000 100\nrefused\n');
    // A stopped container keeps them (it may be started again); removal unmounts them.
    t.true(tmpfsAt(dir));
    await f.manager.remove(Id);
    t.false(tmpfsAt(dir));
  },
);

test.serial('a target clashing with a mount fails the create and leaves no tmpfs behind', async (t) => {
  const before = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter((l) => l.includes(f.dir.path));
  await t.throwsAsync(
    f.manager.create(
      { Image: 'busybox:local', Cmd: ['true'], HostConfig: { Tmpfs: { '/etc/app.conf': '' } } },
      uniqueName(),
      { files: files() },
    ),
    { message: /Duplicate mount point: \/etc\/app.conf/ },
  );
  await t.throwsAsync(
    f.manager.create({ Image: 'busybox:local', Cmd: ['true'] }, uniqueName(), {
      files: [{ target: 'relative', data: Buffer.from('x'), uid: 0, gid: 0, mode: 0o444 }],
    }),
    { message: /must be absolute/ },
  );
  const after = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter((l) => l.includes(f.dir.path));
  t.is(after.length, before.length);
});

test.serial(
  'a restarted manager unmounts the tmpfs of a container directory left without a record',
  async (t) => {
    const { Id } = await f.manager.create({ Image: 'busybox:local', Cmd: ['true'] }, uniqueName(), {
      files: files(),
    });
    const bundle = f.manager.dirOf(Id);
    t.true(tmpfsAt(filesDirOf(bundle)));
    await f.manager.stop();
    // As if the daemon died in the middle of the create: a directory without its record.
    rmSync(join(bundle, 'container.json'));
    const again = new ContainerManager({
      dataRoot: f.dir.path,
      images: f.images,
      log: createLogger({ test: 'files' }),
    });
    await again.start();
    try {
      t.false(tmpfsAt(filesDirOf(bundle)));
      t.throws(() => statSync(bundle));
    } finally {
      await again.stop();
    }
  },
);
