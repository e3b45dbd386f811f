// Service logs on the manager: query parsing, Docker's frame layout (timestamps, details), and the broker's
// subscription life cycle against fake agent streams.
import test from 'ava';
import { EventEmitter } from 'node:events';
import { InvalidArgument, type Service } from '../../../api/index.js';
import {
  LogBroker,
  detailsOf,
  fixedNanoUTC,
  logFrame,
  parseLogQuery,
  type LogMessage,
  type LogSubscription,
} from '../../../manager/logs/index.js';
import { storeCluster } from '../../support/log-proposer.js';
import { mkTask } from '../../support/cluster-fixtures.js';

test('parseLogQuery: Docker names and defaults; tail per task; since as unix seconds or RFC 3339', (t) => {
  const q = parseLogQuery({ stdout: '1', stderr: 'true', follow: '1', tail: '5', details: '1' });
  t.deepEqual(q.options, { follow: true, stdout: true, stderr: true, since: undefined, tail: 5 });
  t.deepEqual(q.output, { timestamps: false, details: true });
  t.is(parseLogQuery({ stdout: '1', tail: 'all' }).options.tail, undefined);
  t.is(parseLogQuery({ stdout: '1', tail: '-1' }).options.tail, undefined);
  t.is(parseLogQuery({ stdout: '1', since: '1700000000.5' }).options.since, 1700000000.5);
  t.is(parseLogQuery({ stdout: '1', since: '2026-01-01T00:00:00Z' }).options.since, 1767225600);
  t.is(parseLogQuery({ stdout: '1', since: '0' }).options.since, undefined);
  t.false(parseLogQuery({ stderr: '1' }).options.stdout);
});

test('parseLogQuery: bad input is InvalidArgument (HTTP 400)', (t) => {
  t.throws(() => parseLogQuery({ stdout: '1', since: 'yesterday' }), {
    instanceOf: InvalidArgument,
    message: /invalid value for "since"/,
  });
  t.throws(() => parseLogQuery({ stdout: '1', tail: 'ten' }), { instanceOf: InvalidArgument });
  t.throws(() => parseLogQuery({}), { instanceOf: InvalidArgument, message: /choose at least one stream/ });
});

test("fixedNanoUTC: Go's RFC3339NanoFixed in UTC, keeping conmon's nanoseconds", (t) => {
  t.is(fixedNanoUTC('2026-12-02T17:21:23.123456789+01:00'), '2026-12-02T16:21:23.123456789Z');
  t.is(fixedNanoUTC('2026-12-02T17:21:23.5Z'), '2026-12-02T17:21:23.500000000Z');
  t.is(fixedNanoUTC('2026-12-02T17:21:23-0230'), '2026-12-02T19:51:23.000000000Z');
  t.is(fixedNanoUTC('not a time'), 'not a time');
});

const msg: LogMessage = {
  nodeId: 'node1',
  serviceId: 'svc1',
  taskId: 'task1',
  time: '2026-12-02T17:21:23.000000001Z',
  stream: 'stderr',
  data: 'line 7\n',
};

test('detailsOf: the three swarm attributes sorted by key, query-escaped', (t) => {
  t.is(
    detailsOf(msg),
    'com.docker.swarm.node.id=node1,com.docker.swarm.service.id=svc1,com.docker.swarm.task.id=task1',
  );
  t.is(detailsOf({ ...msg, nodeId: 'a b,c=d' }).split(',')[0], 'com.docker.swarm.node.id=a+b%2Cc%3Dd');
});

test('logFrame: 8-byte header (stream, length) and "[timestamp ][details ]line"', (t) => {
  const plain = logFrame(msg, { timestamps: false, details: false });
  t.is(plain[0], 2);
  t.is(plain.readUInt32BE(4), plain.length - 8);
  t.is(plain.subarray(8).toString(), 'line 7\n');
  const full = logFrame({ ...msg, stream: 'stdout' }, { timestamps: true, details: true });
  t.is(full[0], 1);
  t.is(full.subarray(8).toString(), `2026-12-02T17:21:23.000000001Z ${detailsOf(msg)} line 7\n`);
});

/** A stand-in for an agent's PublishLogs server stream. */
class FakeCall extends EventEmitter {
  ended = false;
  end(): void {
    this.ended = true;
  }
}

async function brokerWithTasks() {
  const { store } = storeCluster();
  const service: Service = {
    ID: 'svc1',
    Version: { Index: 0 },
    CreatedAt: '',
    UpdatedAt: '',
    Spec: { Name: 'web', TaskTemplate: { ContainerSpec: { Image: 'busybox' } } },
  };
  await store.update((tx) => {
    tx.create('service', service);
    tx.create('task', mkTask('t1', 'svc1', {}, 'n1'));
    tx.create('task', mkTask('t2', 'svc1', {}, 'n2'));
    tx.create('task', mkTask('t3', 'other', {}, 'n3'));
  });
  const sent: [string, LogSubscription][] = [];
  const offline = new Set<string>();
  const broker = new LogBroker(store, {
    send: (node, sub) => (sent.push([node, sub]), !offline.has(node)),
    sessionGraceMs: 50,
  });
  broker.start();
  return { store, broker, sent, offline };
}

const line = (taskId: string, data: string) => ({
  serviceId: 'svc1',
  taskId,
  time: '2026-12-02T17:21:23Z',
  stream: 'stdout' as const,
  data,
});

test('broker: a subscription goes to the nodes of the selected tasks and ends when each has closed', async (t) => {
  const { broker, sent } = await brokerWithTasks();
  const got: LogMessage[] = [];
  const done = broker.subscribe(
    { serviceIds: ['svc1'], taskIds: [] },
    { follow: false, stdout: true, stderr: true },
    (m) => got.push(...m),
    new AbortController().signal,
  );
  t.deepEqual(sent.map(([n]) => n).sort(), ['n1', 'n2']);
  const id = sent[0]![1].id;
  const c1 = new FakeCall();
  const c2 = new FakeCall();
  broker.publish('n1', c1 as never);
  broker.publish('n2', c2 as never);
  c1.emit('data', { subscriptionId: id, messages: [line('t1', 'a\n')] });
  c2.emit('data', { subscriptionId: id, messages: [line('t2', 'b\n')], close: true });
  t.true(c2.ended);
  t.is(broker.size, 1, 'n1 has not finished');
  c1.emit('data', { subscriptionId: id, close: true });
  await done;
  t.is(broker.size, 0);
  t.deepEqual(
    got.map((m) => [m.nodeId, m.taskId, m.data]),
    [
      ['n1', 't1', 'a\n'],
      ['n2', 't2', 'b\n'],
    ],
  );
});

test('broker: a stream for an unknown subscription, or from a node not asked, is ended at once', async (t) => {
  const { broker, sent } = await brokerWithTasks();
  const abort = new AbortController();
  const done = broker.subscribe(
    { serviceIds: ['svc1'], taskIds: [] },
    { follow: true, stdout: true, stderr: true },
    () => undefined,
    abort.signal,
  );
  const stray = new FakeCall();
  broker.publish('n1', stray as never);
  stray.emit('data', { subscriptionId: 'nope' });
  t.true(stray.ended);
  const intruder = new FakeCall();
  broker.publish('n3', intruder as never);
  intruder.emit('data', { subscriptionId: sent[0]![1].id });
  t.true(intruder.ended);
  abort.abort();
  await done;
});

test('broker: following ends when the reader goes (agent streams ended) or the service is removed', async (t) => {
  const { broker, sent, store } = await brokerWithTasks();
  const abort = new AbortController();
  const follow = { follow: true, stdout: true, stderr: true };
  const first = broker.subscribe(
    { serviceIds: ['svc1'], taskIds: [] },
    follow,
    () => undefined,
    abort.signal,
  );
  const call = new FakeCall();
  broker.publish('n1', call as never);
  call.emit('data', { subscriptionId: sent[0]![1].id });
  abort.abort();
  await first;
  t.true(call.ended, 'the agent-side stream is told to end');
  t.is(broker.size, 0);

  const second = broker.subscribe(
    { serviceIds: ['svc1'], taskIds: [] },
    follow,
    () => undefined,
    new AbortController().signal,
  );
  const c2 = new FakeCall();
  broker.publish('n2', c2 as never);
  c2.emit('data', { subscriptionId: sent.at(-1)![1].id });
  // A task placed on a new node while following: that node joins.
  await store.update((tx) => tx.create('task', mkTask('t4', 'svc1', {}, 'n4')));
  t.true(sent.some(([n]) => n === 'n4'));
  await store.update((tx) => tx.delete('service', 'svc1'));
  await second;
  t.true(c2.ended);
  broker.stop();
});

test('broker: nodes without a session or whose session is lost do not hold a subscription open', async (t) => {
  const { broker } = await brokerWithTasks();
  const done = broker.subscribe(
    { serviceIds: ['svc1'], taskIds: [] },
    { follow: false, stdout: true, stderr: true },
    () => undefined,
    new AbortController().signal,
  );
  broker.onSessionLost('n1');
  t.is(broker.size, 1);
  broker.onSessionLost('n2');
  await done;
  t.is(broker.size, 0);
});

test('broker: a node reconnecting gets what it missed; a reading waits a little for an absent node', async (t) => {
  const { broker, sent, offline } = await brokerWithTasks();
  offline.add('n2');
  const got: LogMessage[] = [];
  const done = broker.subscribe(
    { serviceIds: ['svc1'], taskIds: [] },
    { follow: false, stdout: true, stderr: true },
    (m) => got.push(...m),
    new AbortController().signal,
  );
  const id = sent[0]![1].id;
  const c1 = new FakeCall();
  broker.publish('n1', c1 as never);
  c1.emit('data', { subscriptionId: id, close: true });
  t.is(broker.size, 1, 'still waiting for n2');
  offline.delete('n2');
  broker.onSession('n2');
  t.deepEqual(sent.at(-1)![0], 'n2');
  const c2 = new FakeCall();
  broker.publish('n2', c2 as never);
  c2.emit('data', { subscriptionId: id, messages: [line('t2', 'late\n')], close: true });
  await done;
  t.deepEqual(
    got.map((m) => m.data),
    ['late\n'],
  );

  // A node that stays away: the reading ends after the grace period without it.
  offline.add('n2');
  const started = Date.now();
  const second = broker.subscribe(
    { serviceIds: ['svc1'], taskIds: [] },
    { follow: false, stdout: true, stderr: true },
    () => undefined,
    new AbortController().signal,
  );
  const c3 = new FakeCall();
  broker.publish('n1', c3 as never);
  c3.emit('data', { subscriptionId: sent.at(-2)![1].id, close: true });
  await second;
  t.true(Date.now() - started >= 40);

  // A follower's subscription reaches a node whose session comes back, again with new lines only.
  const abort = new AbortController();
  const follow = broker.subscribe(
    { serviceIds: ['svc1'], taskIds: [] },
    { follow: true, stdout: true, stderr: true, tail: 5 },
    () => undefined,
    abort.signal,
  );
  const before = sent.length;
  offline.delete('n2');
  broker.onSession('n2');
  t.is(sent.length, before + 1);
  t.is(sent.at(-1)![1].options.tail, 5, 'first time: as asked');
  broker.onSession('n2');
  t.is(sent.at(-1)![1].options.tail, undefined, 'after a reconnect: new lines only');
  t.true(sent.at(-1)![1].options.since! > 0);
  abort.abort();
  await follow;
});
