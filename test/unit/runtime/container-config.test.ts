import test from 'ava';
import {
  buildOciSpec,
  capabilitySet,
  demux,
  frame,
  mergeCommand,
  mergeEnv,
  parseK8sLog,
  resolveUser,
  selectLines,
} from '../../../runtime/index.js';

test('entrypoint and cmd merge as Docker does', (t) => {
  const image = { Entrypoint: ['/entry'], Cmd: ['--default'] };
  t.deepEqual(mergeCommand(image, {}), ['/entry', '--default']);
  t.deepEqual(mergeCommand(image, { args: ['x'] }), ['/entry', 'x']);
  t.deepEqual(
    mergeCommand(image, { entrypoint: ['sh'] }),
    ['sh'],
    'overriding the entrypoint drops the image cmd',
  );
  t.deepEqual(mergeCommand(image, { entrypoint: ['sh'], args: ['-c', 'true'] }), ['sh', '-c', 'true']);
  t.deepEqual(mergeCommand({ Cmd: ['httpd'] }, {}), ['httpd']);
  t.throws(() => mergeCommand({}, {}), { message: 'no command specified' });
});

test('environment: image then container, with PATH and HOSTNAME defaults', (t) => {
  const env = mergeEnv(['A=1', 'PATH=/img'], ['A=2', 'B=3'], 'web-1');
  t.deepEqual(env, ['PATH=/img', 'HOSTNAME=web-1', 'A=2', 'B=3']);
});

test('users resolve by name, uid, uid:gid and name:group, with supplementary groups', (t) => {
  const passwd = 'root:x:0:0::/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n';
  const group = 'root:x:0:\napp:x:1000:\nextra:x:2000:app\n';
  t.deepEqual(resolveUser(undefined, passwd, group), { uid: 0, gid: 0, additionalGids: [] });
  t.deepEqual(resolveUser('app', passwd, group), { uid: 1000, gid: 1000, additionalGids: [2000] });
  t.deepEqual(resolveUser('1000:0', passwd, group), { uid: 1000, gid: 0, additionalGids: [2000] });
  t.deepEqual(resolveUser('4242', passwd, group), { uid: 4242, gid: 0, additionalGids: [] });
  t.deepEqual(resolveUser('app:root', passwd, group, ['extra']), {
    uid: 1000,
    gid: 0,
    additionalGids: [2000],
  });
  t.throws(() => resolveUser('ghost', passwd, group), {
    message: 'unable to find user ghost: no matching entries in passwd file',
  });
  t.throws(() => resolveUser('app:ghosts', passwd, group), {
    message: 'unable to find group ghosts: no matching entries in group file',
  });
});

test('capabilities: Docker defaults with add, drop and ALL', (t) => {
  t.true(capabilitySet().includes('CAP_CHOWN'));
  t.false(capabilitySet().includes('CAP_SYS_ADMIN'));
  t.true(capabilitySet(['NET_ADMIN']).includes('CAP_NET_ADMIN'));
  t.false(capabilitySet([], ['chown']).includes('CAP_CHOWN'));
  t.deepEqual(capabilitySet(['KILL'], ['ALL']), ['CAP_KILL']);
  t.true(capabilitySet(['ALL']).includes('CAP_SYS_ADMIN'));
});

test('the OCI spec carries limits, namespaces and the read-only root', (t) => {
  const spec = buildOciSpec({
    rootfs: '/r',
    readonlyRootfs: true,
    argv: ['sh'],
    env: ['A=1'],
    user: { uid: 1000, gid: 1000, additionalGids: [] },
    hostname: 'h',
    network: 'none',
    cgroupsPath: 'tss/x',
    memory: 16 * 1024 * 1024,
    nanoCpus: 5e8,
    pids: 20,
  }) as {
    root: { readonly: boolean };
    linux: { namespaces: { type: string }[]; resources: Record<string, unknown> };
  };
  t.true(spec.root.readonly);
  t.true(spec.linux.namespaces.some((n) => n.type === 'network'));
  t.deepEqual(spec.linux.resources.memory, { limit: 16 * 1024 * 1024, swap: 16 * 1024 * 1024 });
  t.deepEqual(spec.linux.resources.cpu, { quota: 50_000, period: 100_000 });
  t.deepEqual(spec.linux.resources.pids, { limit: 20 });
  const host = buildOciSpec({
    rootfs: '/r',
    argv: ['sh'],
    env: [],
    user: { uid: 0, gid: 0, additionalGids: [] },
    hostname: 'h',
    network: 'host',
    cgroupsPath: 'tss/y',
  }) as { linux: { namespaces: { type: string }[] } };
  t.false(host.linux.namespaces.some((n) => n.type === 'network'));
});

test('k8s-file logs: partial lines joined, stream selection, tail, Docker framing', (t) => {
  const content = [
    '2026-01-01T00:00:01.000000000+00:00 stdout F hello',
    '2026-01-01T00:00:02.000000000+00:00 stderr F oops',
    '2026-01-01T00:00:03.000000000+00:00 stdout P long ',
    '2026-01-01T00:00:03.000000000+00:00 stdout F line',
    'garbage',
    '',
  ].join('\n');
  const lines = parseK8sLog(content);
  t.deepEqual(
    lines.map((l) => `${l.stream}:${l.text}`),
    ['stdout:hello\n', 'stderr:oops\n', 'stdout:long line\n'],
  );
  t.deepEqual(
    selectLines(lines, { stderr: false }).map((l) => l.text),
    ['hello\n', 'long line\n'],
  );
  t.deepEqual(
    selectLines(lines, { tail: 1 }).map((l) => l.text),
    ['long line\n'],
  );
  t.deepEqual(
    selectLines(lines, { since: Date.parse('2026-01-01T00:00:02Z') / 1000 }).map((l) => l.text),
    ['oops\n', 'long line\n'],
  );
  const framed = Buffer.concat(lines.map((l) => frame(l)));
  t.deepEqual(demux(framed), [
    { stream: 'stdout', text: 'hello\n' },
    { stream: 'stderr', text: 'oops\n' },
    { stream: 'stdout', text: 'long line\n' },
  ]);
  t.is(
    frame(lines[0]!, { timestamps: true, tty: true }).toString(),
    '2026-01-01T00:00:01.000000000+00:00 hello\n',
  );
});
