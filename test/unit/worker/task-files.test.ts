// A task's secrets and configs as container files: targets, owners and modes as Docker lays them out.
import test from 'ava';
import type { Config, Secret, Task } from '../../../api/index.js';
import { taskFiles } from '../../../worker/executor/task-files.js';
import type { TaskDependencies } from '../../../worker/executor/executor.js';

function task(container: Partial<NonNullable<Task['Spec']['ContainerSpec']>>): Task {
  return {
    ID: 't1',
    Version: { Index: 1 },
    CreatedAt: '',
    UpdatedAt: '',
    ServiceID: 'svc',
    NodeID: 'n1',
    Spec: { ContainerSpec: { Image: 'busybox:local', ...container } },
    Status: { Timestamp: '', State: 'assigned', Message: '' },
    DesiredState: 'running',
  };
}

const meta = { Version: { Index: 1 }, CreatedAt: '', UpdatedAt: '' };
const b64 = (s: string) => Buffer.from(s).toString('base64');
const deps: TaskDependencies = {
  secrets: new Map<string, Secret>([
    ['sid', { ID: 'sid', ...meta, Spec: { Name: 'db', Data: b64('hunter2') } }],
  ]),
  configs: new Map<string, Config>([
    ['cid', { ID: 'cid', ...meta, Spec: { Name: 'app', Data: b64('a=1') } }],
  ]),
};

test('secrets go to /run/secrets/<File.Name>, configs to their target (relative names under /)', (t) => {
  const files = taskFiles(
    task({
      Secrets: [
        { SecretID: 'sid', SecretName: 'db', File: { Name: 'db', UID: '0', GID: '0', Mode: 0o444 } },
        { SecretID: 'sid', SecretName: 'db', File: { Name: 'pw', UID: '1000', GID: '100', Mode: 0o400 } },
        { SecretID: 'sid', SecretName: 'db', File: { Name: '/etc/db.pw', UID: '', GID: '', Mode: 0o440 } },
      ],
      Configs: [
        {
          ConfigID: 'cid',
          ConfigName: 'app',
          File: { Name: '/etc/x.conf', UID: '0', GID: '0', Mode: 0o444 },
        },
        { ConfigID: 'cid', ConfigName: 'app', File: { Name: 'app', UID: '0', GID: '0', Mode: 0o444 } },
      ],
    }),
    deps,
  );
  t.deepEqual(
    files.map((f) => [f.target, f.data.toString(), f.uid, f.gid, f.mode.toString(8)]),
    [
      ['/run/secrets/db', 'hunter2', 0, 0, '444'],
      ['/run/secrets/pw', 'hunter2', 1000, 100, '400'],
      ['/etc/db.pw', 'hunter2', 0, 0, '440'],
      ['/etc/x.conf', 'a=1', 0, 0, '444'],
      ['/app', 'a=1', 0, 0, '444'],
    ],
  );
});

test('without a File target: the name, uid/gid 0 and mode 0444; runtime-only configs are no file', (t) => {
  const files = taskFiles(
    task({
      Secrets: [{ SecretID: 'sid', SecretName: 'db' }],
      Configs: [{ ConfigID: 'cid', ConfigName: 'app', Runtime: {} }],
    }),
    deps,
  );
  t.deepEqual(
    files.map((f) => [f.target, f.uid, f.gid, f.mode]),
    [['/run/secrets/db', 0, 0, 0o444]],
  );
});

test('a secret or config the node was not given fails the task; a bad uid is refused', (t) => {
  t.throws(() => taskFiles(task({ Secrets: [{ SecretID: 'nope', SecretName: 'other' }] }), deps), {
    message: /secret other \(nope\) not found/,
  });
  t.throws(
    () =>
      taskFiles(
        task({
          Configs: [{ ConfigID: 'nope', ConfigName: 'c', File: { Name: 'c', UID: '0', GID: '0', Mode: 0 } }],
        }),
        deps,
      ),
    { message: /config c \(nope\) not found/ },
  );
  t.throws(
    () =>
      taskFiles(
        task({
          Secrets: [
            { SecretID: 'sid', SecretName: 'db', File: { Name: 'db', UID: 'root', GID: '0', Mode: 0o444 } },
          ],
        }),
        deps,
      ),
    { message: /invalid uid "root"/ },
  );
});
