// A task's container as Docker's swarm executor makes it: name, labels (system labels win), command/args
// mapping, env/user/dir/hostname, limits, mounts, capabilities, stop signal and grace, health check, log driver.
import test from 'ava';
import type { Task } from '../../../api/index.js';
import {
  containerLabels,
  containerName,
  createBody,
  DEFAULT_STOP_GRACE_NS,
  stopGraceSeconds,
} from '../../../worker/executor/container-config.js';

function task(
  over: Partial<Task> = {},
  container: Partial<NonNullable<Task['Spec']['ContainerSpec']>> = {},
): Task {
  return {
    ID: 'task1abc',
    Version: { Index: 3 },
    CreatedAt: '2026-01-01T00:00:00Z',
    UpdatedAt: '2026-01-01T00:00:00Z',
    ServiceID: 'svc1',
    Slot: 2,
    NodeID: 'node1',
    Labels: { 'com.docker.swarm.service.name': 'web' },
    Spec: { ContainerSpec: { Image: 'busybox:local', ...container } },
    Status: { Timestamp: '2026-01-01T00:00:00Z', State: 'assigned', Message: '' },
    DesiredState: 'running',
    ...over,
  };
}

test('container name: <service>.<slot>.<task id>; node id for global tasks; service ID without a name label', (t) => {
  t.is(containerName(task()), 'web.2.task1abc');
  t.is(containerName(task({ Slot: undefined })), 'web.node1.task1abc');
  t.is(containerName(task({ Slot: undefined, NodeID: undefined }), 'thisnode'), 'web.thisnode.task1abc');
  t.is(containerName(task({ Labels: {} })), 'svc1.2.task1abc');
});

test('labels: spec labels, then task labels, then the com.docker.swarm system labels, which win', (t) => {
  const labels = containerLabels(
    task(
      {
        Labels: {
          'com.docker.swarm.service.name': 'web',
          team: 'task',
          'com.docker.swarm.task.id': 'forged',
        },
      },
      { Labels: { team: 'spec', tier: 'front' } },
    ),
  );
  t.deepEqual(labels, {
    team: 'task',
    tier: 'front',
    'com.docker.swarm.task': '',
    'com.docker.swarm.task.id': 'task1abc',
    'com.docker.swarm.task.name': 'web.2.task1abc',
    'com.docker.swarm.node.id': 'node1',
    'com.docker.swarm.service.id': 'svc1',
    'com.docker.swarm.service.name': 'web',
  });
});

test('Command replaces the entrypoint (Args become Cmd); Args alone are the entrypoint arguments', (t) => {
  const both = createBody(task({}, { Command: ['httpd', '-f'], Args: ['-p', '80'] }));
  t.deepEqual(both.Entrypoint, ['httpd', '-f']);
  t.deepEqual(both.Cmd, ['-p', '80']);
  const cmdOnly = createBody(task({}, { Command: ['sleep'] }));
  t.deepEqual(cmdOnly.Entrypoint, ['sleep']);
  t.deepEqual(cmdOnly.Cmd, []);
  const argsOnly = createBody(task({}, { Args: ['300'] }));
  t.is(argsOnly.Entrypoint, undefined);
  t.deepEqual(argsOnly.Cmd, ['300']);
  const neither = createBody(task());
  t.is(neither.Entrypoint, undefined);
  t.is(neither.Cmd, undefined);
});

test('env, user, dir, hostname, read-only root, caps, groups, mounts, stop signal and health check carry over', (t) => {
  const mounts = [{ Type: 'tmpfs' as const, Target: '/scratch' }];
  const health = { Test: ['CMD', 'true'], Interval: 1e9, Retries: 2 };
  const b = createBody(
    task(
      {},
      {
        Env: ['A=1'],
        User: 'app',
        Dir: '/srv',
        Hostname: 'web-2',
        ReadOnly: true,
        CapabilityAdd: ['NET_ADMIN'],
        CapabilityDrop: ['CHOWN'],
        Groups: ['wheel'],
        Mounts: mounts,
        StopSignal: 'SIGINT',
        HealthCheck: health,
      },
    ),
  );
  t.like(b, {
    Image: 'busybox:local',
    Env: ['A=1'],
    User: 'app',
    WorkingDir: '/srv',
    Hostname: 'web-2',
    StopSignal: 'SIGINT',
    Healthcheck: health,
  });
  t.like(b.HostConfig, {
    ReadonlyRootfs: true,
    CapAdd: ['NET_ADMIN'],
    CapDrop: ['CHOWN'],
    GroupAdd: ['wheel'],
    Mounts: mounts,
  });
  t.is(b.Labels?.['com.docker.swarm.task.id'], 'task1abc');
});

test('resource limits become cgroup limits; the log driver carries its options', (t) => {
  const tk = task();
  tk.Spec.Resources = {
    Limits: { NanoCPUs: 500_000_000, MemoryBytes: 64 << 20, Pids: 50 },
    Reservations: { MemoryBytes: 1 << 20 },
  };
  tk.Spec.LogDriver = { Name: 'json-file', Options: { 'max-size': '1m' } };
  const h = createBody(tk).HostConfig!;
  t.is(h.NanoCpus, 500_000_000);
  t.is(h.Memory, 64 << 20);
  t.is(h.PidsLimit, 50);
  t.deepEqual(h.LogConfig, { Type: 'json-file', Config: { 'max-size': '1m' } });
  const bare = createBody(task()).HostConfig!;
  t.is(bare.Memory, undefined);
  t.is(bare.LogConfig, undefined);
});

test('stop grace: the spec period in seconds (fractions kept), 10 s by default; it is the container stop timeout', (t) => {
  t.is(stopGraceSeconds(task()), DEFAULT_STOP_GRACE_NS / 1e9);
  t.is(stopGraceSeconds(task({}, { StopGracePeriod: 1_500_000_000 })), 1.5);
  t.is(stopGraceSeconds(task({}, { StopGracePeriod: 0 })), 0);
  t.is(createBody(task({}, { StopGracePeriod: 3e9 })).StopTimeout, 3);
});

test('a task without a container spec cannot make a container', (t) => {
  const tk = task();
  tk.Spec = {};
  t.throws(() => createBody(tk), { message: /no container spec/ });
});
