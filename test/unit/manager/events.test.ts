// Swarm events: store changes → Docker event messages, event filters, since/until parsing, the hub's history
// and subscribers, and GET /events for a finished window.
import test from 'ava';
import { createLogger, type Node, type Service } from '../../../api/index.js';
import {
  EventsHub,
  eventMatches,
  eventRoutes,
  eventsOfChange,
  parseEventFilters,
  parseEventTime,
  type EventMessage,
} from '../../../manager/events/index.js';
import type { StoreEvent } from '../../../manager/store/index.js';
import { createHttpServer } from '../../../node/http/server.js';
import { storeCluster } from '../../support/log-proposer.js';

const T0 = '2026-01-02T03:04:05.678Z';
const T1 = '2026-01-02T03:05:00.001Z';

function service(extra: Partial<Service> = {}, image = 'busybox:1', replicas = 3): Service {
  return {
    ID: 'svc1',
    Version: { Index: 5 },
    CreatedAt: T0,
    UpdatedAt: T1,
    Spec: {
      Name: 'web',
      TaskTemplate: { ContainerSpec: { Image: image } },
      Mode: { Replicated: { Replicas: replicas } },
    },
    ...extra,
  } as Service;
}

function node(extra: Partial<Node> = {}, spec: Partial<Node['Spec']> = {}): Node {
  return {
    ID: 'node1',
    Version: { Index: 3 },
    CreatedAt: T0,
    UpdatedAt: T1,
    Spec: { Role: 'worker', Availability: 'active', ...spec },
    Description: { Hostname: 'host-a' },
    Status: { State: 'ready', Addr: '127.0.0.1' },
    ...extra,
  } as Node;
}

const one = (e: StoreEvent, now = 0): EventMessage => {
  const out = eventsOfChange(e, now);
  if (out.length !== 1) throw new Error(`expected one event, got ${out.length}`);
  return out[0]!.message;
};

test('service create, update and remove map to Docker messages with swarm scope and the object times', (t) => {
  const created = one({ op: 'create', kind: 'service', obj: service(), index: 5 });
  t.deepEqual(created, {
    Type: 'service',
    Action: 'create',
    Actor: { ID: 'svc1', Attributes: { name: 'web' } },
    scope: 'swarm',
    time: Math.floor(Date.parse(T0) / 1000),
    timeNano: Date.parse(T0) * 1e6,
  });
  // Image and replicas changed: old and new as Docker puts them; UpdatedAt dates it.
  const updated = one({
    op: 'update',
    kind: 'service',
    obj: service({}, 'busybox:2', 5),
    old: service({}, 'busybox:1', 3),
    index: 6,
  });
  t.is(updated.Action, 'update');
  t.is(updated.timeNano, Date.parse(T1) * 1e6);
  t.deepEqual(updated.Actor.Attributes, {
    name: 'web',
    'image.old': 'busybox:1',
    'image.new': 'busybox:2',
    'replicas.old': '3',
    'replicas.new': '5',
  });
  // An update starting: only the new update state; then a state change shows both.
  const starting = one({
    op: 'update',
    kind: 'service',
    obj: service({ UpdateStatus: { State: 'updating' } }),
    old: service(),
    index: 7,
  });
  t.deepEqual(starting.Actor.Attributes, { name: 'web', 'updatestate.new': 'updating' });
  const done = one({
    op: 'update',
    kind: 'service',
    obj: service({ UpdateStatus: { State: 'completed' } }),
    old: service({ UpdateStatus: { State: 'updating' } }),
    index: 8,
  });
  t.deepEqual(done.Actor.Attributes, {
    name: 'web',
    'updatestate.old': 'updating',
    'updatestate.new': 'completed',
  });
  // A removal carries no time of its own: the clock's.
  const removed = one({ op: 'delete', kind: 'service', obj: service(), index: 9 }, 1_700_000_000_123);
  t.is(removed.Action, 'remove');
  t.deepEqual(removed.Actor, { ID: 'svc1', Attributes: { name: 'web' } });
  t.is(removed.time, 1_700_000_000);
  t.is(removed.timeNano, 1_700_000_000_123_000_000);
});

test('node updates carry availability, role, state, leadership and reachability changes', (t) => {
  const mgr = (leader: boolean, reach: 'reachable' | 'unreachable') =>
    ({ Addr: '127.0.0.1:2377', Leader: leader, Reachability: reach }) as Node['ManagerStatus'];
  const before = node({ ManagerStatus: mgr(false, 'reachable') }, { Role: 'manager' });
  const after = node(
    { Status: { State: 'down', Addr: '127.0.0.1' }, ManagerStatus: mgr(true, 'unreachable') },
    { Role: 'worker', Availability: 'drain' },
  );
  t.deepEqual(one({ op: 'update', kind: 'node', obj: after, old: before, index: 4 }).Actor.Attributes, {
    name: 'host-a',
    'availability.old': 'active',
    'availability.new': 'drain',
    'role.old': 'manager',
    'role.new': 'worker',
    'state.old': 'ready',
    'state.new': 'down',
    'leader.old': 'false',
    'leader.new': 'true',
    'reachability.old': 'reachable',
    'reachability.new': 'unreachable',
  });
  // A node's Spec.Name wins over its hostname; an update changing nothing shown has only the name.
  const named = node({}, { Name: 'edge' });
  t.deepEqual(one({ op: 'update', kind: 'node', obj: named, old: named, index: 5 }).Actor.Attributes, {
    name: 'edge',
  });
});

test('secrets, configs and networks carry their name; tasks and the cluster object give no event', (t) => {
  for (const kind of ['secret', 'config', 'network'] as const) {
    const obj = { ID: `${kind}1`, Version: { Index: 1 }, CreatedAt: T0, UpdatedAt: T0, Spec: { Name: 'x' } };
    const m = one({ op: 'create', kind, obj: obj as never, index: 1 });
    t.is(m.Type, kind);
    t.deepEqual(m.Actor, { ID: `${kind}1`, Attributes: { name: 'x' } });
  }
  t.deepEqual(eventsOfChange({ op: 'create', kind: 'task', obj: {} as never, index: 1 }, 0), []);
  t.deepEqual(eventsOfChange({ op: 'update', kind: 'cluster', obj: {} as never, index: 1 }, 0), []);
});

const msg = (Type: EventMessage['Type'], Action: string, ID: string, name: string): EventMessage => ({
  Type,
  Action,
  Actor: { ID, Attributes: { name, tier: 'front' } },
  scope: 'swarm',
  time: 1,
  timeNano: 1e9,
});

test('filters select by type, action, scope, object id or name prefix, and label, as dockerd', (t) => {
  const web = msg('service', 'create', 'abc123', 'web');
  const n1 = msg('node', 'update', 'nodeid9', 'host-a');
  const f = (o: object) => parseEventFilters(JSON.stringify(o));
  t.true(eventMatches(f({}), web));
  t.true(eventMatches(f({ type: { service: true } }), web));
  t.false(eventMatches(f({ type: { service: true } }), n1));
  t.true(eventMatches(f({ type: ['node', 'service'] }), n1), 'legacy list form');
  t.true(eventMatches(f({ event: { create: true } }), web));
  t.false(eventMatches(f({ event: { remove: true } }), web));
  t.false(eventMatches(f({ event: { creat: true } }), web), 'actions match exactly');
  t.true(eventMatches(f({ scope: { swarm: true } }), web));
  t.false(eventMatches(f({ scope: { local: true } }), web));
  t.true(eventMatches(f({ service: { we: true } }), web), 'name prefix');
  t.true(eventMatches(f({ service: { abc: true } }), web), 'id prefix');
  t.false(eventMatches(f({ service: { api: true } }), web));
  t.false(eventMatches(f({ service: { web: true } }), n1), 'an object filter keeps only matching actors');
  t.true(eventMatches(f({ node: { nodeid: true } }), n1));
  t.true(eventMatches(f({ label: { tier: true } }), web));
  t.true(eventMatches(f({ label: { 'tier=front': true } }), web));
  t.false(eventMatches(f({ label: { 'tier=back': true } }), web));
});

test('bad filters, since and until are refused with Docker’s wording', (t) => {
  t.throws(() => parseEventFilters('{"type":'), { message: /^invalid filter/ });
  t.throws(() => parseEventFilters('{"typo":{"service":true}}'), { message: "invalid filter 'typo'" });
  t.throws(() => parseEventFilters('{"type":"service"}'), { message: 'invalid filter' });
  t.is(parseEventTime(undefined, 'since'), undefined);
  t.is(parseEventTime('', 'since'), undefined);
  t.is(parseEventTime('1700000000', 'since'), 1_700_000_000_000_000_000n);
  t.is(parseEventTime('1700000000.5', 'until'), 1_700_000_000_500_000_000n);
  t.is(parseEventTime('1700000000.123456789999', 'until'), 1_700_000_000_123_456_789n);
  t.throws(() => parseEventTime('yesterday', 'since'), {
    message: `invalid value for 'since': invalid timestamp "yesterday": invalid seconds "yesterday": invalid syntax`,
  });
  t.throws(() => parseEventTime('12.3x', 'until'), {
    message: `invalid value for 'until': invalid timestamp "12.3x": invalid nanoseconds: invalid character 'x' at position 1`,
  });
  t.throws(() => parseEventTime('99999999999999999999', 'since'), { message: /value out of range$/ });
});

test('the hub keeps a bounded history, replays a since/until window and delivers live events until unsubscribed', async (t) => {
  let now = 1_000;
  const { stores } = storeCluster(2, () => new Date(now));
  const [leader, follower] = stores as [(typeof stores)[0], (typeof stores)[0]];
  const hub = new EventsHub({ history: 5, now: () => now });
  const watchesBefore = follower.watchCount;
  // The follower's replica publishes the changes proposed through the leader's.
  const detach = hub.attach(follower);
  t.is(follower.watchCount, watchesBefore + 1);
  t.is(hub.attachedStores, 1);
  const live: EventMessage[] = [];
  const sub = hub.subscribe({ filters: parseEventFilters('{"type":{"secret":true}}') }, (m) => live.push(m));
  t.deepEqual(sub.buffered, [], 'no window: no replay');
  for (let i = 0; i < 8; i++) {
    now = 10_000 + i * 1000;
    await leader.update((tx) =>
      tx.create('secret', {
        ID: `s${i}`,
        Version: { Index: 0 },
        CreatedAt: '',
        UpdatedAt: '',
        Spec: { Name: `secret${i}` },
      }),
    );
  }
  t.deepEqual(
    live.map((m) => m.Actor.Attributes.name),
    Array.from({ length: 8 }, (_, i) => `secret${i}`),
  );
  t.is(hub.size, 5, 'the history is bounded');
  const all = parseEventFilters('');
  t.deepEqual(
    hub.history({ since: 0n, filters: all }).map((m) => m.Actor.ID),
    ['s3', 's4', 's5', 's6', 's7'],
  );
  const ms = (x: number) => BigInt(x) * 1_000_000n;
  t.deepEqual(
    hub.history({ since: ms(14_000), until: ms(16_000), filters: all }).map((m) => m.Actor.ID),
    ['s4', 's5', 's6'],
  );
  t.deepEqual(
    hub.history({ until: ms(13_500), filters: all }).map((m) => m.Actor.ID),
    ['s3'],
  );
  sub.unsubscribe();
  t.is(hub.subscriberCount, 0);
  await leader.update((tx) => tx.delete('secret', 's0'));
  t.is(live.length, 8, 'nothing after unsubscribing');
  detach();
  t.is(follower.watchCount, watchesBefore);
  t.is(hub.attachedStores, 0);
  await leader.update((tx) => tx.delete('secret', 's1'));
  t.is(hub.history({ since: 0n, filters: all }).at(-1)!.Action, 'remove', 'the first removal was kept');
  t.is(hub.history({ since: 0n, filters: all }).filter((m) => m.Action === 'remove').length, 1);
});

test('GET /events: a past window is answered and closed; bad input is a 400 with a message', async (t) => {
  const hub = new EventsHub();
  const ns = (ms: number) => BigInt(ms) * 1_000_000n;
  const ev = (id: string, ms: number) => ({
    ns: ns(ms),
    message: { ...msg('service', 'create', id, id), time: Math.floor(ms / 1000), timeNano: ms * 1e6 },
  });
  hub.publish(ev('a', 1_000_000));
  hub.publish(ev('b', 2_000_000));
  hub.publish({ ...ev('n', 2_500_000), message: msg('node', 'update', 'n', 'n') });
  hub.publish(ev('c', 3_000_000));
  const app = createHttpServer(
    createLogger({}, () => undefined),
    [eventRoutes(hub)],
  );
  const res = await app.inject({
    url: `/v1.50/events?since=1500&until=3000&filters=${encodeURIComponent('{"type":{"service":true}}')}`,
  });
  t.is(res.statusCode, 200);
  t.is(res.headers['content-type'], 'application/json');
  const lines = res.body.trimEnd().split('\n');
  t.deepEqual(
    lines.map((l) => (JSON.parse(l) as EventMessage).Actor.ID),
    ['b', 'c'],
  );
  t.true(res.body.endsWith('\n'));
  t.is(hub.subscriberCount, 0);
  const ndjson = await app.inject({ url: '/events?until=1', headers: { accept: 'application/x-ndjson' } });
  t.is(ndjson.headers['content-type'], 'application/x-ndjson');
  t.is(ndjson.body, '');

  for (const [query, message] of [
    [
      'since=abc',
      `invalid value for 'since': invalid timestamp "abc": invalid seconds "abc": invalid syntax`,
    ],
    [
      'until=1.z',
      `invalid value for 'until': invalid timestamp "1.z": invalid nanoseconds: invalid character 'z' at position 0`,
    ],
    ['since=20&until=10', '`since` time (20) cannot be after `until` time (10)'],
    ['filters=%7Bnope', 'invalid filter: {nope'],
    ['filters=%7B%22colour%22%3A%7B%22red%22%3Atrue%7D%7D', "invalid filter 'colour'"],
  ]) {
    const bad = await app.inject({ url: `/events?${query}` });
    t.is(bad.statusCode, 400, query);
    t.is(bad.headers['content-type'], 'application/json');
    t.deepEqual(bad.json(), { message }, query);
  }
  t.is(hub.subscriberCount, 0);
  await app.close();
});

test('a change the hub cannot map is logged and never breaks the store or its other watchers', async (t) => {
  const { store } = storeCluster(1);
  const hub = new EventsHub();
  const warnings: string[] = [];
  const log = createLogger({}, (line) => warnings.push(String(line)));
  hub.attach(store, log);
  const seen: string[] = [];
  store.watch((changes) => seen.push(...changes.map((c) => c.op)));
  await store.update((tx) => tx.create('service', service()));
  // An UpdateStatus without a State cannot be named in an event.
  const broken = { ...store.view((tx) => tx.get('service', 'svc1'))!, UpdateStatus: {} as never };
  await t.notThrowsAsync(store.update((tx) => tx.update('service', broken)));
  t.deepEqual(seen, ['create', 'update']);
  t.is(hub.size, 1);
  t.is(warnings.length, 1);
  t.regex(warnings[0]!, /no event for a store change/);
});
